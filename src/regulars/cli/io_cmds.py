"""``regulars import customers|events FILE`` and ``regulars export customers|events``."""

from __future__ import annotations

import csv
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from regulars.cli.common import NowOption, console, errors, fail, runtime, written_when_done
from regulars.domain.access import CLI
from regulars.domain.errors import RegularsError
from regulars.services import exporter, importer

SHOWN_PROBLEMS = 40


class What(StrEnum):
    customers = "customers"
    events = "events"


class Format(StrEnum):
    csv = "csv"
    json = "json"
    jsonl = "jsonl"


FileArgument = Annotated[Path, typer.Argument(help="The CSV file (events: also .jsonl).")]
DryRun = Annotated[
    bool, typer.Option("--dry-run", help="Check every row and report; write nothing.")
]
Source = Annotated[
    str,
    typer.Option(
        "--source",
        help="Name of the system the file comes from; with external_id it recognises rows "
        "already imported.",
    ),
]
ReportPath = Annotated[
    Path | None,
    typer.Option("--report", help="Also write the rejected rows (line, column, reason) here."),
]


@contextmanager
def _bar(label: str, total: int | None, out: Console) -> Iterator[Callable[[int], None]]:
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=out,
        transient=True,
    ) as progress:
        task = progress.add_task(label, total=total)

        def advance(amount: int) -> None:
            progress.advance(task, amount)

        yield advance


def register(app: typer.Typer) -> None:
    imports = typer.Typer(help="Import customers or events from a file.", no_args_is_help=True)
    app.add_typer(imports, name="import")

    @imports.command("customers")
    def import_customers(
        file: FileArgument,
        dry_run: DryRun = False,
        source: Source = "csv",
        report: ReportPath = None,
        now: NowOption = None,
    ) -> None:
        """Import customers from a CSV file (columns: docs/import-formats.md)."""
        _run_import(importer.import_customers, file, dry_run, source, report, now)

    @imports.command("events")
    def import_events(
        file: FileArgument,
        dry_run: DryRun = False,
        source: Source = "csv",
        report: ReportPath = None,
        now: NowOption = None,
    ) -> None:
        """Import events from CSV (one row per purchase line) or JSON Lines (.jsonl)."""
        _run_import(importer.import_events, file, dry_run, source, report, now)

    @app.command("export")
    def export(
        what: Annotated[What, typer.Argument(help="customers or events")],
        fmt: Annotated[Format, typer.Option("--format", help="csv, json or jsonl")] = Format.csv,
        out: Annotated[
            Path | None, typer.Option("--out", help="Write here instead of to the terminal.")
        ] = None,
        location: Annotated[
            str | None, typer.Option("--location", help="Only this location's customers.")
        ] = None,
        now: NowOption = None,
    ) -> None:
        """Export customers (profiles and consents) or events (the timeline), streaming.

        Each export is recorded in the audit log (kind, format, location, count).
        """
        rt = runtime(now)
        count = exporter.count_customers if what == What.customers else exporter.count_events
        write = exporter.export_customers if what == What.customers else exporter.export_events
        try:
            total = count(rt.engine, CLI, location=location)
            target = written_when_done(out) if out else nullcontext(sys.stdout)
            with target as handle, _bar(f"exporting {what.value}", total, errors) as advance:
                written = write(
                    rt.engine,
                    CLI,
                    handle,
                    fmt=fmt.value,
                    location=location,
                    progress=advance,
                    now=rt.now(),
                )
        except RegularsError as error:
            fail(error.message)
        finally:
            rt.engine.dispose()
        if out:
            console.print(f"Wrote {written:,} {what.value} to [bold]{out}[/]")


def _run_import(
    service: Callable[..., importer.ImportReport],
    file: Path,
    dry_run: bool,
    source: str,
    report_path: Path | None,
    now: str | None,
) -> None:
    rt = runtime(now)
    try:
        total = max(importer.count_lines(file) - 1, 0)
        with _bar(f"importing {file.name}", total, console) as advance:
            report = service(
                rt.engine,
                CLI,
                file,
                now=rt.now(),
                source=source,
                dry_run=dry_run,
                progress=advance,
            )
    except RegularsError as error:
        fail(f"{file}: {error.message}")
    finally:
        rt.engine.dispose()
    _print_report(report)
    if report_path is not None:
        with written_when_done(report_path) as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(("line", "column", "reason"))
            writer.writerows((p.line, p.column, p.reason) for p in report.problems)
        console.print(f"Rejected rows written to [bold]{report_path}[/]")
    if report.rejected:
        raise typer.Exit(1)


def _print_report(report: importer.ImportReport) -> None:
    verb = "would be " if report.dry_run else ""
    totals = Table(title=f"Import of {report.kind}", title_justify="left")
    totals.add_column("")
    totals.add_column("count", justify="right")
    totals.add_row(f"{verb}created", f"[green]{report.created:,}")
    totals.add_row("duplicate (already there)", f"{report.duplicates:,}")
    totals.add_row("rejected", f"[red]{report.rejected:,}" if report.rejected else "0")
    totals.add_row("rows read", f"{report.rows:,}")
    console.print(totals)
    if report.dry_run:
        console.print("[bold]Dry run: nothing was written.[/]")
    if not report.problems:
        return
    problems = Table(title="Rejected rows", title_justify="left")
    problems.add_column("line", justify="right")
    problems.add_column("column")
    problems.add_column("reason")
    for problem in report.problems[:SHOWN_PROBLEMS]:
        problems.add_row(str(problem.line), problem.column, problem.reason)
    console.print(problems)
    hidden = len(report.problems) - SHOWN_PROBLEMS
    if hidden > 0:
        console.print(f"… and {hidden:,} more; --report FILE writes them all.")
