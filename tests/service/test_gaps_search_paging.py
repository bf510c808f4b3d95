"""Customer search pages by position, not by count: every match once, whatever is written."""

from __future__ import annotations

import base64
from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from regulars.bootstrap import Runtime
from regulars.domain.access import CLI
from regulars.domain.errors import InvalidInput
from regulars.services.customers import update_customer
from regulars.services.queries import (
    MAX_PAGE,
    CustomerSummary,
    search_cursor,
    search_customers,
)
from regulars.store.uow import UnitOfWork
from tests import factories

#: Ties on purpose: two Marias Silva, two Marias Costa, so the id decides between them.
PEOPLE = [
    ("Maria", "Silva"),
    ("Maria", "Costa"),
    ("Mariana", "Abreu"),
    ("Maria", "Silva"),
    ("Marta", "Costa"),
    ("Maria", "Costa"),
    ("Mario", "Zé"),
    ("Marisa", ""),
    ("Maria", "Ávila"),
]


def _enrol(engine: Engine, now: datetime, people: list[tuple[str, str]]) -> list[int]:
    return [factories.customer(engine, now, first_name=f, last_name=last) for f, last in people]


def _page(engine: Engine, cursor: str | None, limit: int = 2) -> list[CustomerSummary]:
    return search_customers(
        UnitOfWork(engine, readonly=True), CLI, "mar", limit=limit, cursor=cursor
    )


def test_paging_through_a_search_returns_every_match_once_in_name_order(
    engine: Engine, now: datetime
) -> None:
    ids = _enrol(engine, now, PEOPLE)
    everything = _page(engine, None, limit=50)

    seen: list[CustomerSummary] = []
    cursor: str | None = None
    while True:
        page = _page(engine, cursor)
        seen += page
        if len(page) < 2:
            break
        cursor = search_cursor(page[-1])

    assert [c.id for c in seen] == [c.id for c in everything]  # as on one long page
    assert sorted(c.id for c in seen) == sorted(ids)
    silvas = [c.id for c in seen if (c.first_name, c.last_name) == ("Maria", "Silva")]
    assert silvas == sorted(silvas)  # namesakes in the order they were enrolled


def test_customers_enrolled_between_pages_never_make_a_match_come_twice_or_go_missing(
    engine: Engine, now: datetime
) -> None:
    original = set(_enrol(engine, now, PEOPLE))

    seen: list[int] = []
    cursor: str | None = None
    round_ = 0
    while True:
        page = _page(engine, cursor)
        seen += [c.id for c in page]
        if len(page) < 2:
            break
        cursor = search_cursor(page[-1])
        # A busy counter: someone sorting before everyone and someone after, every page.
        round_ += 1
        _enrol(engine, now, [(f"Mara{round_}", "Aaa"), (f"Mara{round_}", "Zzz")])

    assert len(seen) == len(set(seen)), "a match came twice"
    assert original <= set(seen), "a match was skipped"


def test_a_cursor_still_works_after_the_customer_it_points_at_was_renamed(
    engine: Engine, now: datetime
) -> None:
    _enrol(engine, now, PEOPLE)
    first = _page(engine, None, limit=4)

    update_customer(UnitOfWork(engine), CLI, first[-1].id, {"last_name": "Zzz"}, now=now)
    rest = _page(engine, search_cursor(first[-1]), limit=50)

    others_again = {c.id for c in first[:-1]} & {c.id for c in rest}
    assert others_again == set()  # only the renamed one may come again, under its new name
    assert len({c.id for c in first} | {c.id for c in rest}) == len(PEOPLE)


@pytest.mark.parametrize("cursor", ["o20", "zzz", "W10", "WyJhIiwiYiIsImMiXQ", "bnVsbA"])
def test_a_cursor_the_search_never_gave_out_names_the_cursor(
    engine: Engine, now: datetime, cursor: str
) -> None:
    _enrol(engine, now, PEOPLE[:1])

    with pytest.raises(InvalidInput) as error:
        _page(engine, cursor)

    assert error.value.problems[0].field == "cursor"


def test_the_api_pages_with_an_opaque_cursor_and_the_same_answer_shape(
    api_client: TestClient,
) -> None:
    for _ in range(5):
        answer = api_client.post("/api/v1/customers", json={"first_name": "Zoe", "last_name": "Ng"})
        assert answer.status_code == 201
    seen: list[int] = []
    cursor: str | None = None
    while True:
        params: dict[str, object] = {"q": "zoe", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = api_client.get("/api/v1/customers", params=params)
        assert page.status_code == 200, page.text
        body = page.json()
        assert set(body) == {"items", "next_cursor"}
        seen += [c["id"] for c in body["items"]]
        if cursor is None:  # someone enrolled while the first page was on screen
            api_client.post("/api/v1/customers", json={"first_name": "Zoe", "last_name": "Aa"})
        cursor = body["next_cursor"]
        if cursor is None:
            break

    assert len(seen) == len(set(seen)) == 5  # the newcomer sorts before the cursor
    stale = api_client.get("/api/v1/customers", params={"q": "zoe", "cursor": "o2"})
    assert stale.status_code == 422
    assert stale.json()["error"]["field"] == "cursor"


def test_a_full_page_of_the_largest_size_still_offers_the_next_page(
    api_client: TestClient, runtime: Runtime
) -> None:
    for n in range(MAX_PAGE + 5):
        factories.customer(runtime.engine, runtime.now(), first_name="Zoe", last_name=f"N{n:04}")

    first = api_client.get("/api/v1/customers", params={"q": "zoe", "limit": MAX_PAGE}).json()
    rest = api_client.get(
        "/api/v1/customers", params={"q": "zoe", "limit": MAX_PAGE, "cursor": first["next_cursor"]}
    ).json()

    assert len(first["items"]) == MAX_PAGE
    assert len(rest["items"]) == 5
    assert rest["next_cursor"] is None


@pytest.mark.parametrize(
    "raw",
    [
        '["a", "b", 100000000000000000000000]',  # an id no column can hold
        '["a", "b", 0]',
        '["a\\u0000", "b", 1]',  # NUL: PostgreSQL text cannot hold it
        '["' + "a" * 500 + '", "b", 1]',  # longer than any stored name
    ],
)
def test_a_forged_cursor_is_refused_naming_the_cursor_on_both_databases(
    engine: Engine, now: datetime, raw: str
) -> None:
    factories.customer(engine, now, first_name="Maria")
    forged = base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    with pytest.raises(InvalidInput) as refused:
        _page(engine, forged)

    assert refused.value.problems[0].field == "cursor"
