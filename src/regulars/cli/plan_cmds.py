"""``regulars plan``, ``regulars playbook …``, ``regulars tasks``, ``brief`` and ``outcome``.

The same service functions the API and the scheduler call; ``--now`` replays any moment.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from regulars.cli.common import NowOption, console, fail, runtime
from regulars.domain.access import CLI
from regulars.domain.errors import InvalidInput, RegularsError
from regulars.services.briefs import brief_for_task
from regulars.services.outcomes import record_outcome
from regulars.services.planning import plan_day
from regulars.services.playbook_store import check_playbooks, save_playbooks
from regulars.services.tasks import my_tasks

playbook_app = typer.Typer(help="Check and load the planner's playbooks.", no_args_is_help=True)


def _day(value: str | None, fallback: date) -> date:
    if value is None:
        return fallback
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"--date: {value!r} is not a date like 2026-05-01")
    return fallback  # unreachable: fail() raises


def _print_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _explain(error: RegularsError) -> None:
    if isinstance(error, InvalidInput):
        for problem in error.problems:
            console.print(f"[red]✗[/] {problem}", highlight=False)
        raise typer.Exit(1)
    fail(error.message, 1)


def register(app: typer.Typer) -> None:
    app.add_typer(playbook_app, name="playbook")

    @app.command("plan")
    def plan(
        day: Annotated[
            str | None, typer.Option("--date", help="The day to plan (default: today, UTC).")
        ] = None,
        location: Annotated[
            str | None, typer.Option("--location", help="Only this location's customers.")
        ] = None,
        dry_run: Annotated[
            bool, typer.Option("--dry-run", help="Show the plan without writing anything.")
        ] = False,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
        now: NowOption = None,
    ) -> None:
        """Plan a day's touches: customer, moment, touch, assignee, when, and why."""
        rt = runtime(now)
        moment = rt.now()
        try:
            report = plan_day(
                rt.uow(),
                day=_day(day, moment.date()),
                now=moment,
                location=location,
                dry_run=dry_run,
                leap_rule=rt.settings.leap_birthday_rule,
            )
        except RegularsError as error:
            _explain(error)
            return
        if as_json:
            _print_json(report.as_dict())
            return
        table = Table(
            title=f"Plan for {report.day.isoformat()}" + (" (dry run)" if dry_run else "")
        )
        for column in ("customer", "moment", "touch", "assignee", "when", "status"):
            table.add_column(column, no_wrap=True, overflow="ellipsis", max_width=24)
        table.add_column("why", overflow="fold", min_width=30)
        for line in report.lines:
            table.add_row(
                f"{line.customer} (#{line.customer_id})",
                line.moment,
                line.touch or "—",
                line.assignee or "—",
                (line.when or "—")[:16],
                line.status,
                line.reasons,
            )
        console.print(table)
        counts = ", ".join(f"{n} {status}" for status, n in sorted(report.counts().items()))
        console.print(
            f"{len(report.lines)} new decisions ({counts or 'none'}); "
            f"{report.already_decided} already decided; {report.tasks} tasks; "
            f"{report.messages} messages queued."
        )

    @app.command("tasks")
    def tasks(
        staff_id: Annotated[
            int | None, typer.Option("--staff", help="Whose queue (staff id); default: all.")
        ] = None,
        status: Annotated[str, typer.Option(help="open, done, cancelled or expired.")] = "open",
        day: Annotated[str | None, typer.Option("--date", help="As of this day.")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
        now: NowOption = None,
    ) -> None:
        """The staff task queue: calls, counter prompts and cards, most urgent first."""
        rt = runtime(now)
        try:
            rows = my_tasks(
                rt.uow(readonly=True),
                CLI,
                today=_day(day, rt.now().date()),
                status=status,
                staff_id=staff_id,
            )
        except RegularsError as error:
            _explain(error)
            return
        if as_json:
            _print_json(rows)
            return
        table = Table(title="Tasks")
        for column in ("id", "kind", "customer", "due", "assignee", "what"):
            table.add_column(column, overflow="fold")
        for row in rows:
            table.add_row(
                str(row["id"]),
                row["kind"],
                f"{row['customer']} (#{row['customer_id']})",
                row["due_on"] + (" (overdue)" if row["overdue"] else ""),
                row["assignee"] or "—",
                row["summary"],
            )
        console.print(table)

    @app.command("brief")
    def brief(
        task_id: Annotated[int, typer.Argument(help="The task's id (see `regulars tasks`).")],
        now: NowOption = None,
    ) -> None:
        """A task's conversation brief, as JSON."""
        rt = runtime(now)
        try:
            _print_json(brief_for_task(rt.uow(readonly=True), CLI, task_id, now=rt.now()))
        except RegularsError as error:
            _explain(error)

    @app.command("outcome")
    def outcome(
        task_id: Annotated[int, typer.Argument(help="The task's id.")],
        result: Annotated[
            str, typer.Option("--outcome", help="reached, voicemail, not_reached or done.")
        ],
        emotion: Annotated[
            str | None, typer.Option(help="How they felt: unhappy, neutral or happy.")
        ] = None,
        notes: Annotated[str, typer.Option(help="What was said, for the next person.")] = "",
        follow_up: Annotated[
            str | None, typer.Option("--follow-up", help="Call again on this day.")
        ] = None,
        now: NowOption = None,
    ) -> None:
        """Record how a task went; closes it and writes the call and note events."""
        rt = runtime(now)
        data: dict[str, Any] = {"outcome": result, "notes": notes}
        if emotion is not None:
            data["emotion"] = emotion
        if follow_up is not None:
            data["follow_up_on"] = follow_up
        try:
            done = record_outcome(rt.uow(), CLI, task_id, data, now=rt.now())
        except RegularsError as error:
            _explain(error)
            return
        console.print(
            f"Task {task_id} closed ({done['outcome']}); new tasks: "
            f"{', '.join(map(str, done['new_tasks'])) or 'none'}."
        )


@playbook_app.command("check")
def playbook_check(
    file: Annotated[Path, typer.Argument(help="A playbook YAML file.", exists=True)],
) -> None:
    """Validate a playbook file; each problem is printed with its line and field."""
    try:
        book = check_playbooks(file.read_text(encoding="utf-8"))
    except RegularsError as error:
        if isinstance(error, InvalidInput):
            for problem in error.problems:
                console.print(f"[red]✗[/] {file}: {problem}", highlight=False)
            raise typer.Exit(1) from None
        fail(error.message, 1)
        return
    rules = sum(len(p.rules) for p in book.playbooks.values())
    console.print(f"[green]✓[/] {file}: {len(book.playbooks)} playbooks, {rules} rules, all valid.")


@playbook_app.command("load")
def playbook_load(
    file: Annotated[Path, typer.Argument(help="A playbook YAML file.", exists=True)],
    now: NowOption = None,
) -> None:
    """Make a playbook file the one the planner uses (validated first; audited)."""
    rt = runtime(now)
    try:
        book = save_playbooks(rt.uow(), CLI, file.read_text(encoding="utf-8"), now=rt.now())
    except RegularsError as error:
        if isinstance(error, InvalidInput):
            for problem in error.problems:
                console.print(f"[red]✗[/] {file}: {problem}", highlight=False)
            raise typer.Exit(1) from None
        fail(error.message, 1)
        return
    console.print(f"[green]✓[/] loaded {', '.join(sorted(book.playbooks))} from {file}.")
