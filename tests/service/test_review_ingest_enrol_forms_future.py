"""A sign-up form dated after today (2062 typed for 2026) enrols nobody and names the form."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select

from regulars.domain.access import CLI
from regulars.domain.errors import InvalidInput
from regulars.services import loyalty
from regulars.store.loyalty_tables import loyalty_members
from regulars.store.uow import UnitOfWork
from tests import factories
from tests.loyalty_support import load, program_text


def test_a_sign_up_dated_in_the_future_enrols_nobody_and_names_the_customer(
    engine: Engine, now: datetime
) -> None:
    factories.location(engine, now)
    load(engine, now, program_text("dealership"))
    ana = factories.customer(engine, now, first_name="Ana")
    rui = factories.customer(engine, now, first_name="Rui")
    typo = now.replace(year=2062)

    with pytest.raises(InvalidInput) as refused:
        loyalty.enrol_many(
            UnitOfWork(engine),
            CLI,
            "dealership",
            [(ana, now - timedelta(days=3)), (rui, typo)],
            now=now,
        )

    (problem,) = refused.value.problems
    assert problem.field == "signed_up_at"
    assert str(rui) in problem.message
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(loyalty_members)) == 0
