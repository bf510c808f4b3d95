"""The read side: paging a timeline visits every event once, in order; search stays in scope."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from regulars.domain.access import CLI, Actor
from regulars.domain.customers import Role
from regulars.services.customers import update_customer
from regulars.services.ingest import ingest_events
from regulars.services.queries import (
    _name_match,
    _summary_select,
    customer_360,
    find_by_card,
    search_customers,
    timeline,
)
from regulars.store.uow import UnitOfWork
from tests import factories

BASE = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)
_serial = itertools.count()


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    offsets=st.lists(st.integers(min_value=0, max_value=5), min_size=0, max_size=12),
    page=st.integers(min_value=1, max_value=5),
)
def test_paging_a_timeline_visits_every_event_once_newest_first(
    engine: Engine, now: datetime, offsets: list[int], page: int
) -> None:
    n = next(_serial)
    cid = factories.customer(engine, now, first_name=f"P{n}")
    batch = [
        {
            "type": "visit",
            "source": "pos",
            "external_id": f"{n}-{i}",
            "occurred_at": (BASE + timedelta(hours=offset)).isoformat(),
            "customer_id": cid,
        }
        for i, offset in enumerate(offsets)
    ]
    ingest_events(UnitOfWork(engine), batch, now=now)

    seen: list[tuple[datetime, int]] = []
    cursor = None
    for _ in range(len(offsets) + 2):
        result = timeline(UnitOfWork(engine), CLI, cid, limit=page, cursor=cursor)
        seen += [(e.occurred_at, e.id) for e in result.entries]
        cursor = result.next_cursor
        if cursor is None:
            break
    assert cursor is None
    assert len(seen) == len(offsets) == len(set(seen))
    assert seen == sorted(seen, reverse=True)


def test_search_and_card_lookup_never_cross_into_another_location(
    engine: Engine, now: datetime
) -> None:
    lis = factories.location(engine, now, "CAFE-LIS")
    factories.location(engine, now, "CAFE-POR")
    factories.customer(
        engine, now, first_name="Maria", home_location="CAFE-LIS", card_number="C-0001"
    )
    factories.customer(
        engine, now, first_name="Maria", home_location="CAFE-POR", card_number="C-0002"
    )
    barista = Actor(kind="staff", id=1, role=Role.staff, locations=frozenset({lis}))

    found = search_customers(UnitOfWork(engine), barista, "maria")

    assert [c.home_location for c in found] == ["CAFE-LIS"]
    assert find_by_card(UnitOfWork(engine), barista, "c-0001") is not None
    assert find_by_card(UnitOfWork(engine), barista, "C-0002") is None
    assert len(search_customers(UnitOfWork(engine), CLI, "maria")) == 2


def test_the_360_view_lists_recent_notes_and_only_open_complaints(
    engine: Engine, now: datetime
) -> None:
    cid = factories.customer(engine, now)

    def ticket(ext: str, ticket_id: str, status: str, hour: int) -> dict[str, object]:
        return {
            "type": "ticket",
            "source": "desk",
            "external_id": ext,
            "occurred_at": (BASE + timedelta(hours=hour)).isoformat(),
            "customer_id": cid,
            "ticket_id": ticket_id,
            "status": status,
            "subject": f"ticket {ticket_id}",
        }

    ingest_events(
        UnitOfWork(engine),
        [
            ticket("t1", "T1", "opened", 1),
            ticket("t2", "T1", "closed", 2),
            ticket("t3", "T2", "opened", 3),
            {
                "type": "note",
                "source": "console",
                "external_id": "n1",
                "occurred_at": BASE.isoformat(),
                "customer_id": cid,
                "text": "likes oat milk",
            },
        ],
        now=now,
    )

    view = customer_360(UnitOfWork(engine), CLI, cid)

    assert [c.payload["ticket_id"] for c in view.open_complaints] == ["T2"]
    assert [n.payload["text"] for n in view.recent_notes] == ["likes oat milk"]


def test_a_name_search_ignores_case_and_accents_and_follows_renames(
    engine: Engine,
) -> None:
    joao = factories.customer(engine, BASE, first_name="João", last_name="Ñúñez Groß")
    factories.customer(engine, BASE, first_name="Joana", last_name="Silva")

    def found(text: str) -> list[int]:
        return [c.id for c in search_customers(UnitOfWork(engine), CLI, name=text)]

    assert found("JOAO") == [joao]
    assert found("nunez gross") == [joao]
    assert found("joão ñú") == [joao]
    assert len(found("jo")) == 2
    assert found("%") == [] and found("_") == []

    update_customer(UnitOfWork(engine), CLI, joao, {"first_name": "Zé"}, now=BASE)
    assert found("joao") == []
    assert found("ze nunez") == [joao]


def test_a_name_search_is_an_index_lookup_not_a_scan_of_every_customer(
    engine: Engine,
) -> None:
    factories.customer(engine, BASE, first_name="Ana", last_name="Silva")
    query = _summary_select().where(_name_match("ana sil"))
    sql = str(query.compile(engine, compile_kwargs={"literal_binds": True}))
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            plan = " ".join(
                str(row[-1]) for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")
            )
            assert "SCAN customers" not in plan
        else:
            conn.exec_driver_sql("SET enable_seqscan = off")
            plan = " ".join(str(row[0]) for row in conn.exec_driver_sql(f"EXPLAIN {sql}"))
            assert "Seq Scan on customers" not in plan
    assert "ix_customers_search_first" in plan and "ix_customers_search_last" in plan
