"""The ``regulars`` command line: every command calls the same service functions as the API.

Each command group lives in its own module and registers itself here.
"""

from __future__ import annotations

import typer

from regulars.cli import (
    access_cmds,
    db_cmds,
    deliver_cmds,
    demo_cmds,
    io_cmds,
    loyalty_cmds,
    plan_cmds,
)

app = typer.Typer(
    name="regulars",
    help="regulars: loyalty program and the human touch, for businesses that live on regulars.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

for module in (db_cmds, demo_cmds, io_cmds, access_cmds, deliver_cmds, plan_cmds, loyalty_cmds):
    module.register(app)


def main() -> None:
    app()
