"""``regulars program …``, ``regulars simulate``, ``regulars loyalty …``, ``regulars redeem``.

Thin: each command parses, calls the same service the API calls, and prints.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from regulars.cli.common import NowOption, console, fail, runtime
from regulars.domain.access import CLI
from regulars.domain.errors import InvalidInput, RegularsError
from regulars.domain.money import money_text
from regulars.domain.program import Program, describe, load_program
from regulars.insight.simulator import ProgramOutcome, Simulation, simulate
from regulars.insight.simulator_report import render_html
from regulars.services import goodwill, loyalty, loyalty_jobs, redeem

program_app = typer.Typer(
    help="Check, load and explain loyalty program files.", no_args_is_help=True
)
loyalty_app = typer.Typer(help="Loyalty jobs and reports.", no_args_is_help=True)
goodwill_app = typer.Typer(help="Goodwill points: grant, approve, decline.", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _explain(error: RegularsError, source: str = "") -> None:
    """Print each problem like a compiler would: ``file:line: field: reason``."""
    if isinstance(error, InvalidInput):
        for problem in error.problems:
            line = getattr(problem, "line", None)
            where = f"{source}:{line}: " if source and line else (f"{source}: " if source else "")
            what = f"{problem.field}: {problem.message}" if problem.field else problem.message
            console.print(f"[red]✗[/] {where}{what}", highlight=False, soft_wrap=True)
        raise typer.Exit(1)
    fail(error.message, 1)


def _print_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as error:
        fail(f"{path}: {error.strerror}")
    return ""  # unreachable: fail() raises


def _program_file(path: Path) -> Program:
    try:
        return load_program(_read(path))
    except InvalidInput as error:
        _explain(error, str(path))
    raise AssertionError("unreachable")  # pragma: no cover


def _day(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{name}: {value!r} is not a date like 2026-05-01")
    return date.min  # unreachable: fail() raises


@program_app.command("check")
def program_check(file: Path) -> None:
    """Validate a program file and say what it does, in plain words."""
    program = _program_file(file)
    console.print(f"[green]✓[/] {file} is a valid program.", highlight=False)
    for line in describe(program):
        console.print(f"  {line}", highlight=False)


@program_app.command("load")
def program_load(file: Path, now: NowOption = None) -> None:
    """Put a program file in force (a new version when it changed)."""
    text = _read(file)
    rt = runtime(now)
    try:
        version = loyalty.load_program_file(rt.uow(), CLI, text, now=rt.now())
    except RegularsError as error:
        _explain(error, str(file))
    console.print(f"[green]✓[/] loaded {file} as version {version}.", highlight=False)


@program_app.command("show")
def program_show(code: Annotated[str | None, typer.Argument()] = None) -> None:
    """Explain the programs in force (or one of them)."""
    rt = runtime()
    try:
        explained = loyalty.explain_program(rt.uow(readonly=True), code)
    except RegularsError as error:
        _explain(error)
    if not explained:
        console.print("No program is loaded: regulars program load FILE")
    for lines in explained.values():
        for line in lines:
            console.print(line, highlight=False)
        console.print()


def _outcome_table(sim: Simulation) -> Table:
    columns = [o for o in (sim.baseline, sim.proposed) if o is not None]
    table = Table(title=f"Simulation {sim.start} → {sim.end} ({sim.events:,} events)")
    table.add_column("")
    for outcome in columns:
        role = (
            ""
            if sim.baseline is None
            else ("baseline: " if outcome is sim.baseline else "proposed: ")
        )
        table.add_column(f"{role}{outcome.name}", justify="right")

    def money(o: ProgramOutcome, value: int) -> str:
        return money_text(value, o.currency)

    rows: list[tuple[str, Any]] = [
        ("members", lambda o: f"{o.members:,}"),
        ("points issued", lambda o: f"{o.issued:,}"),
        ("  worth", lambda o: money(o, o.issued_value)),
        ("points redeemed", lambda o: f"{o.redeemed:,}"),
        ("points expired", lambda o: f"{o.expired:,}"),
        ("taken back on returns", lambda o: f"{o.reversed:,}"),
        ("outstanding", lambda o: f"{o.outstanding:,}"),
        ("liability", lambda o: money(o, o.liability)),
        ("moved up / down", lambda o: f"{o.moved_up:,} / {o.moved_down:,}"),
    ]
    for label, value in rows:
        table.add_row(label, *[value(o) for o in columns])
    rules = sorted({rule for o in columns for rule in o.per_rule})
    for rule in rules:
        table.add_row(f"rule: {rule}", *[f"{o.per_rule.get(rule, 0):,}" for o in columns])
    tiers = [t for o in columns for t in o.tiers_after]
    for tier in dict.fromkeys(tiers):
        table.add_row(
            f"tier {tier}: start → end",
            *[
                f"{o.tiers_before.get(tier, 0):,} → {o.tiers_after.get(tier, 0):,}"
                if tier in o.tiers_after
                else ""
                for o in columns
            ],
        )
    return table


def register(app: typer.Typer) -> None:
    app.add_typer(program_app, name="program")
    app.add_typer(loyalty_app, name="loyalty")
    app.add_typer(goodwill_app, name="goodwill")

    @app.command("simulate")
    def simulate_cmd(
        program: Annotated[Path, typer.Option("--program", help="The proposed program file.")],
        start: Annotated[str, typer.Option("--from", help="First day replayed, e.g. 2025-01-01.")],
        end: Annotated[str, typer.Option("--to", help="Last day replayed, e.g. 2025-12-31.")],
        baseline: Annotated[
            Path | None, typer.Option("--baseline", help="The program to compare with.")
        ] = None,
        redeemers: Annotated[
            int | None,
            typer.Option("--redeemers", min=0, max=100, help="Percent of members who redeem."),
        ] = None,
        as_json: JsonOption = False,
        html: Annotated[
            Path | None, typer.Option("--html", help="Also write a self-contained HTML report.")
        ] = None,
    ) -> None:
        """Replay recorded purchases and returns under a proposed program (and a baseline)."""
        proposed = _program_file(program)
        base = _program_file(baseline) if baseline is not None else None
        first, last = _day(start, "--from"), _day(end, "--to")
        if last < first:
            fail("--to: the period ends before it starts")
        rt = runtime()
        result = simulate(
            rt.uow(readonly=True),
            proposed,
            start=first,
            end=last,
            baseline=base,
            redeemer_percent=redeemers,
        )
        if html is not None:
            html.write_text(render_html(result), encoding="utf-8")
        if as_json:
            _print_json(result.as_dict())
            return
        console.print(_outcome_table(result))
        for finding in result.findings:
            console.print(f"• {finding}", highlight=False)
        if html is not None:
            console.print(f"Report written to {html}", highlight=False)

    @app.command("redeem")
    def redeem_cmd(
        customer_id: int,
        reward: str,
        program: Annotated[str | None, typer.Option("--program")] = None,
        location: Annotated[
            str | None, typer.Option("--location", help="where the reward is handed over")
        ] = None,
        now: NowOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Spend a member's points on a reward."""
        rt = runtime(now)
        try:
            answer = redeem.redeem(
                rt.uow(), CLI, customer_id, reward, now=rt.now(), program=program, location=location
            )
        except RegularsError as error:
            _explain(error)
        if as_json:
            _print_json(answer)
            return
        console.print(
            f"[green]✓[/] {answer['reward_name']} for {answer['points']} points; "
            f"{answer['available_points']} left.",
            highlight=False,
        )


@loyalty_app.command("expire")
def expire_cmd(now: NowOption = None, as_json: JsonOption = False) -> None:
    """Mature pending points, expire what is due and warn members whose points expire soon."""
    rt = runtime(now)
    summary = loyalty_jobs.expire_points(rt.uow(), CLI, now=rt.now())
    if as_json:
        _print_json(summary)
        return
    for code, counts in summary.items():
        console.print(
            f"{code}: {counts['matured']:,} points matured, {counts['expired']:,} expired, "
            f"{counts['warned']:,} members warned.",
            highlight=False,
        )


@loyalty_app.command("review")
def review_cmd(now: NowOption = None, as_json: JsonOption = False) -> None:
    """Review tiers (once a month per member): up, down with soft landing, grace."""
    rt = runtime(now)
    summary = loyalty_jobs.review_tiers(rt.uow(), CLI, now=rt.now())
    if as_json:
        _print_json(summary)
        return
    for code, counts in summary.items():
        console.print(
            f"{code}: {counts['up']} up, {counts['down']} down, {counts['grace']} kept by grace, "
            f"{counts['same']} unchanged, {counts['close_to_next']} close to the next tier.",
            highlight=False,
        )


@loyalty_app.command("census")
def census_cmd(now: NowOption = None, as_json: JsonOption = False) -> None:
    """Enrolled versus active members, tier mix and liability per program."""
    rt = runtime(now)
    rows = loyalty.census(rt.uow(readonly=True), CLI, now=rt.now())
    if as_json:
        _print_json(rows)
        return
    table = Table(title="Membership census")
    for column in ("program", "enrolled", "active", "active %", "tiers", "liability"):
        table.add_column(column, justify="left" if column in ("program", "tiers") else "right")
    for row in rows:
        table.add_row(
            row["name"],
            f"{row['enrolled']:,}",
            f"{row['active']:,}",
            f"{row['active_share_percent']} %",
            ", ".join(f"{k} {v:,}" for k, v in row["tiers"].items()),
            money_text(row["liability"], row["currency"]),
        )
    console.print(table)


@loyalty_app.command("status")
def status_cmd(customer_id: int, now: NowOption = None, as_json: JsonOption = False) -> None:
    """What a member sees: points, tier, progress, expiry."""
    rt = runtime(now)
    try:
        statuses = loyalty.member_status(rt.uow(readonly=True), CLI, customer_id, now=rt.now())
    except RegularsError as error:
        _explain(error)
    if as_json:
        _print_json(statuses)
        return
    if not statuses:
        console.print("Not a member of any program.")
    for s in statuses:
        console.print(
            f"[bold]{s['program_name']}[/]: {s['available_points']:,} points available, "
            f"{s['pending_points']:,} pending; tier {s['tier']['name']}. {s['progress']}",
            highlight=False,
        )
        for item in s["expiring"]:
            console.print(f"  {item['points']:,} points expire on {item['on']:%Y-%m-%d}.")


@loyalty_app.command("adjust")
def adjust_cmd(
    customer_id: int,
    program: str,
    points: Annotated[
        int, typer.Option("--points", help="Points to add, or take away when negative.")
    ],
    reason: Annotated[str, typer.Option("--reason", help="Why, in a sentence.")],
    now: NowOption = None,
) -> None:
    """Correct a member's balance (audited; never below zero)."""
    rt = runtime(now)
    try:
        result = loyalty.adjust_points(
            rt.uow(), CLI, customer_id, program, points, reason, now=rt.now()
        )
    except RegularsError as error:
        _explain(error)
    console.print(f"Adjusted: {result['available_points']:,} points available now.")


@loyalty_app.command("enrol")
def enrol_cmd(customer_id: int, program: str, now: NowOption = None) -> None:
    """Opt a customer in to a program."""
    rt = runtime(now)
    try:
        fresh = loyalty.enrol(rt.uow(), CLI, customer_id, program, now=rt.now())
    except RegularsError as error:
        _explain(error)
    console.print("Enrolled." if fresh else "Already a member.")


@loyalty_app.command("enrol-forms")
def enrol_forms_cmd(
    program: str,
    file: Annotated[Path, typer.Argument(help="CSV, header customer_id[,signed_up_at]")],
    now: NowOption = None,
) -> None:
    """Opt in a pile of sign-up forms at once (CSV with customer_id and, optionally,
    signed_up_at as an ISO time with its offset); a bad line stops the whole file."""
    rt = runtime(now)
    sign_ups = _sign_ups(_read(file), default=rt.now())
    try:
        fresh = loyalty.enrol_many(rt.uow(), CLI, program, sign_ups, now=rt.now())
    except RegularsError as error:
        _explain(error, str(file))
    already = len({cid for cid, _ in sign_ups}) - fresh
    console.print(f"{fresh:,} enrolled, {already:,} already members.")


def _sign_ups(text: str, *, default: datetime) -> list[tuple[int, datetime]]:
    """The forms of a CSV, or every bad line named (line, column, reason) and nothing done."""
    rows = csv.DictReader(io.StringIO(text))
    if rows.fieldnames is None or "customer_id" not in rows.fieldnames:
        raise fail("the file needs a header line with a customer_id column (and signed_up_at)")
    out: list[tuple[int, datetime]] = []
    problems: list[str] = []
    for row in rows:
        line = rows.line_num
        raw_id = (row.get("customer_id") or "").strip()
        raw_at = (row.get("signed_up_at") or "").strip()
        if not raw_id.isdigit() or int(raw_id) <= 0:
            problems.append(f"line {line}, customer_id: not a customer id: {raw_id!r}")
            continue
        signed = default
        if raw_at:
            try:
                signed = datetime.fromisoformat(raw_at)
            except ValueError:
                problems.append(f"line {line}, signed_up_at: not a time: {raw_at!r}")
                continue
            if signed.tzinfo is None:
                problems.append(f"line {line}, signed_up_at: give the offset, e.g. +01:00")
                continue
        out.append((int(raw_id), signed))
    if problems:
        raise fail("nothing was enrolled:\n" + "\n".join(problems))
    return out


@goodwill_app.command("grant")
def goodwill_grant(
    customer_id: int,
    points: int,
    reason: Annotated[str, typer.Option("--reason", help="What went wrong, in a sentence.")],
    program: Annotated[str | None, typer.Option("--program")] = None,
    now: NowOption = None,
) -> None:
    """Grant goodwill points (the command line acts for the business: no limit)."""
    rt = runtime(now)
    try:
        result = goodwill.grant_goodwill(
            rt.uow(), CLI, customer_id, points, reason, rt.now(), program=program
        )
    except RegularsError as error:
        _explain(error)
    console.print(f"Goodwill #{result['goodwill_id']}: {result['status']}.")


@goodwill_app.command("approve")
def goodwill_approve(goodwill_id: int, note: str = "", now: NowOption = None) -> None:
    """Approve a goodwill request."""
    rt = runtime(now)
    try:
        goodwill.approve_goodwill(rt.uow(), CLI, goodwill_id, rt.now(), note=note)
    except RegularsError as error:
        _explain(error)
    console.print(f"Goodwill #{goodwill_id} approved.")


@goodwill_app.command("decline")
def goodwill_decline(goodwill_id: int, note: str = "", now: NowOption = None) -> None:
    """Decline a goodwill request."""
    rt = runtime(now)
    try:
        goodwill.decline_goodwill(rt.uow(), CLI, goodwill_id, rt.now(), note=note)
    except RegularsError as error:
        _explain(error)
    console.print(f"Goodwill #{goodwill_id} declined.")
