"""A customer listed in someone else's household: that row is theirs to export and to erase."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, select

from regulars.domain.access import CLI
from regulars.services import customers as service
from regulars.services.privacy import erase_customer, export_customer
from regulars.store.tables import audit_log, household_members
from regulars.store.uow import UnitOfWork
from tests import factories


def _couple(engine: Engine, now: datetime) -> tuple[int, int]:
    """Maria lists her husband João, who has a profile of his own but no household."""
    maria = factories.customer(engine, now, first_name="Maria", last_name="Costa")
    joao = factories.customer(engine, now, first_name="João", last_name="Costa")
    service.add_household_member(
        UnitOfWork(engine),
        CLI,
        maria,
        {"name": "João Costa", "relation": "spouse", "birthday": "1970-02-28", "customer_id": joao},
        now=now,
    )
    return maria, joao


def test_a_persons_export_holds_the_household_row_that_names_him(
    engine: Engine, now: datetime
) -> None:
    _, joao = _couple(engine, now)

    document = export_customer(UnitOfWork(engine), CLI, joao, now=now)

    names = [m["name"] for m in document["household_members"]]
    assert names == ["João Costa"]
    assert document["household_members"][0]["birthday"] == "1970-02-28"


def test_erasing_a_person_blanks_his_row_in_another_customers_household(
    engine: Engine, now: datetime
) -> None:
    _, joao = _couple(engine, now)

    erase_customer(UnitOfWork(engine), CLI, joao, now=now, confirm=True)

    with engine.connect() as conn:
        rows = conn.execute(select(household_members)).mappings().all()
    assert len(rows) == 1  # Maria still has a spouse, but nothing says who he was
    assert rows[0]["name"] == "[erased]"
    assert rows[0]["birthday"] is None
    assert rows[0]["customer_id"] is None


def test_erasing_a_person_blanks_his_name_in_the_audit_of_the_household_that_listed_him(
    engine: Engine, now: datetime
) -> None:
    maria, joao = _couple(engine, now)

    erase_customer(UnitOfWork(engine), CLI, joao, now=now, confirm=True)

    with engine.connect() as conn:
        entry = conn.execute(
            select(audit_log.c.after).where(
                audit_log.c.action == "household.add_member", audit_log.c.entity_id == str(maria)
            )
        ).scalar_one()
    assert "João" not in str(entry)
    assert "1970" not in str(entry)
    assert entry["relation"] == "spouse"
