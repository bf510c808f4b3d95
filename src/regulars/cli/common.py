"""What every command shares: the runtime, ``--now``, and printing errors clearly."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, TextIO

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


@contextmanager
def written_when_done(path: Path) -> Iterator[TextIO]:
    """A file to write that replaces ``path`` only once the block has finished.

    The text goes to a temporary file beside ``path``; if the block fails (an export refused,
    a database error, Ctrl-C) it is removed and whatever was at ``path`` before is left as it
    was, never half-written or emptied. A folder that is missing or not writable is a
    one-line error naming ``path`` before any work starts.
    """
    try:
        descriptor, temporary = tempfile.mkstemp(
            prefix=f".{path.name}.", suffix=".partial", dir=path.parent
        )
    except OSError as error:
        raise fail(f"{path}: cannot write here ({error.strerror or error})") from None
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
            yield handle
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
