"""What every command shares: the runtime, ``--now``, and printing errors clearly."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from rich.console import Console

from regulars.bootstrap import Runtime, build

console = Console()
errors = Console(stderr=True)

NowOption = Annotated[
    str | None,
    typer.Option(
        "--now",
        help="Pretend it is this moment (ISO 8601 with offset, e.g. 2026-05-01T09:40:00+02:00); "
        "for replays, backfills and tests.",
    ),
]


def parse_now(value: str | None) -> datetime | None:
    """Read ``--now``; a time without an offset is refused, since our locations span zones."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        fail(f"--now: {value!r} is not an ISO 8601 date-time")
    if moment.tzinfo is None:
        fail("--now: give a time zone offset, e.g. 2026-05-01T09:40:00+02:00")
    return moment


def runtime(now: str | None = None) -> Runtime:
    return build(now=parse_now(now))


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print a red error line and stop with a non-zero exit code."""
    errors.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)
