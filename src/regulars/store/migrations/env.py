"""Alembic environment: migrates the engine handed over by ``regulars.store.migrate``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from regulars.store.schema import metadata

config = context.config
engine = config.attributes.get("engine")
if engine is None:  # run from the alembic command line; `-x url=…` picks the database
    url = context.get_x_argument(as_dictionary=True).get("url")
    engine = create_engine(
        url or config.get_main_option("sqlalchemy.url") or "sqlite:///regulars.db"
    )

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
