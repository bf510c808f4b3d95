"""``regulars demo``: build the demo business into the configured database and say how to log in."""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import Annotated, Self

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from sqlalchemy import text
from sqlalchemy.engine import URL, make_url

from regulars.bootstrap import build
from regulars.cli.common import NowOption, console, fail, parse_now
from regulars.config import get_settings
from regulars.demo.generator import DemoSummary, build_demo
from regulars.domain.errors import RegularsError
from regulars.store.db import make_engine


class RichProgress:
    """The generator's progress, drawn as a Rich bar with a rate and time left."""

    def __init__(self) -> None:
        self._bar = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self._task: TaskID | None = None

    def __enter__(self) -> Self:
        self._bar.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._bar.stop()

    def begin(self, label: str, total: int) -> None:
        self._task = self._bar.add_task(label, total=total)

    def advance(self, amount: int) -> None:
        if self._task is not None:
            self._bar.advance(self._task, amount)


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo(
        customers: Annotated[
            int, typer.Option("--customers", min=1, help="How many customers to create.")
        ] = 2000,
        seed: Annotated[int, typer.Option("--seed", help="Same seed, same business.")] = 7,
        now: NowOption = None,
        fresh: Annotated[
            bool,
            typer.Option(
                "--fresh/--keep",
                help="Start from an empty database (the default) or add to the existing one.",
            ),
        ] = True,
        yes: Annotated[
            bool, typer.Option("--yes", help="Allow --fresh to empty a PostgreSQL database.")
        ] = False,
    ) -> None:
        """Build the demo business: cafés, a dealership, an optician and two years of history."""
        moment = parse_now(now)
        settings = get_settings()
        url = make_url(settings.database_url)
        if fresh:
            _start_empty(url, yes=yes)
        rt = build(settings, now=moment)
        try:
            with RichProgress() as progress:
                summary = build_demo(
                    rt.engine,
                    customers_wanted=customers,
                    seed=seed,
                    now=rt.now(),
                    progress=progress,
                )
        except RegularsError as error:
            fail(error.message)
        finally:
            rt.engine.dispose()
        _print_summary(summary, url)


def _start_empty(url: URL, *, yes: bool) -> None:
    """Remove the SQLite file; a PostgreSQL database is emptied only when the user said --yes."""
    if url.get_backend_name() == "sqlite":
        database = url.database or ""
        if database in ("", ":memory:"):
            return
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(database + suffix).expanduser().unlink(missing_ok=True)
        return
    if not yes:
        fail(
            f"refusing to empty the PostgreSQL database {url.database!r}; "
            "pass --yes to drop everything in it, or --keep to add to it"
        )
    engine = make_engine(url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def _print_summary(summary: DemoSummary, url: URL) -> None:
    places = Table(title="Locations", title_justify="left")
    for column in ("code", "name", "time zone"):
        places.add_column(column)
    for row in summary.locations:
        places.add_row(*row)
    console.print(places)

    counts = Table(title="What was built", title_justify="left")
    counts.add_column("")
    counts.add_column("count", justify="right")
    for role, n in sorted(summary.staff_by_role.items()):
        counts.add_row(f"staff: {role}", f"{n:,}")
    counts.add_row("customers", f"{summary.customers:,}")
    for kind, n in summary.events_by_type.items():
        counts.add_row(f"events: {kind}", f"{n:,}")
    counts.add_row("[bold]events in all", f"[bold]{summary.events:,}")
    console.print(counts)

    if summary.birthdays_today:
        shown = ", ".join(summary.birthdays_today[:8])
        more = len(summary.birthdays_today) - 8
        console.print(
            f"[bold]Birthdays today:[/] {shown}" + (f" and {more} more" if more > 0 else "")
        )
    for note in summary.setup_notes:
        console.print(note)
    rate = summary.customers / summary.seconds if summary.seconds else 0.0
    console.print(
        f"Built in {summary.seconds:.1f} s ({rate:,.0f} customers/s, "
        f"{summary.events / summary.seconds if summary.seconds else 0:,.0f} events/s) "
        f"into {url.render_as_string()}"
    )
    logins = Table(title="Demo logins", title_justify="left")
    for column in ("e-mail", "role", "name", "password"):
        logins.add_column(column)
    for email, role, name in summary.logins:
        logins.add_row(email, role, name, summary.password)
    console.print(logins)
