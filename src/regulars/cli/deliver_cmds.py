"""``regulars deliver`` (the outbox worker) and ``regulars serve`` (web app plus scheduler)."""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import threading
from types import FrameType
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from regulars.bootstrap import Runtime, channels, delivery_policy
from regulars.cli.common import NowOption, console, errors, fail, runtime
from regulars.domain.access import CLI
from regulars.domain.errors import RegularsError
from regulars.services.outbox import (
    DeliveryReport,
    deliver_outbox,
    list_messages,
    message_history,
    outbox_counts,
    requeue_message,
)

#: The web app uvicorn builds (see ``regulars.web.asgi``).
ASGI_FACTORY = "regulars.web.asgi:app_from_settings"


def default_worker_id() -> str:
    """Host and process: unique among live workers, readable in the send log."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _line(report: DeliveryReport) -> str:
    parts = [f"{value} {name}" for name, value in report.as_dict().items() if value]
    return ", ".join(parts) if parts else "nothing due"


outbox_app = typer.Typer(
    help="The outbox: what waits, what failed, send again.", no_args_is_help=True
)


@outbox_app.command("list")
def outbox_list(
    status: Annotated[
        str | None,
        typer.Option("--status", help="queued, sending, sent, failed, dead, suppressed, deferred"),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print rows as JSON.")] = False,
) -> None:
    """Counts by status, then the newest messages (of one status), with their last error."""
    rt = runtime()
    try:
        rows = list_messages(rt.uow(readonly=True), CLI, status=status, limit=limit)
    except RegularsError as error:
        raise fail(str(error)) from error
    counts = outbox_counts(rt.uow(readonly=True), CLI)
    if as_json:
        console.print_json(json.dumps({"counts": counts, "messages": rows}, default=str))
        return
    console.print(
        "  ".join(f"{name}: {n}" for name, n in sorted(counts.items())) or "the outbox is empty",
        highlight=False,
    )
    table = Table("key", "channel", "status", "tries", "next try", "why", title_justify="left")
    for row in rows:
        why = row["last_error"] or row["reason"]
        when = row["next_attempt_at"].isoformat(timespec="minutes")
        table.add_row(row["key"], row["channel"], row["status"], str(row["attempts"]), when, why)
    if rows:
        console.print(table)


@outbox_app.command("show")
def outbox_show(
    key: Annotated[str, typer.Argument(help="The message's key.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """One message and its send log: each claim, guard verdict, try and answer."""
    rt = runtime()
    try:
        history = message_history(rt.uow(readonly=True), CLI, key)
    except RegularsError as error:
        raise fail(str(error)) from error
    if as_json:
        console.print_json(json.dumps(history, default=str))
        return
    console.print(
        f"{history['key']}: {history['channel']} {history['template']} to customer "
        f"{history['customer_id']} — {history['status']} after {history['attempts']} tries",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )
    why = history["last_error"] or history["reason"]
    if why:
        console.print(f"why: {why}", highlight=False, markup=False, soft_wrap=True)
    table = Table("try", "at", "worker", "outcome", "detail", title_justify="left")
    for entry in history["log"]:
        at = entry["at"].isoformat(timespec="seconds")
        table.add_row(
            str(entry["attempt"]), at, entry["worker_id"], entry["outcome"], entry["detail"]
        )
    console.print(table)


@outbox_app.command("retry")
def outbox_retry(
    key: Annotated[
        str, typer.Argument(help="The message's key, as `regulars outbox list` shows it.")
    ],
    now: NowOption = None,
) -> None:
    """Send a failed or dead message again (after fixing the address or the provider)."""
    rt = runtime(now)
    try:
        requeue_message(rt.uow(), CLI, key, now=rt.now())
    except RegularsError as error:
        raise fail(str(error)) from error
    console.print(f"Queued again: {key}", highlight=False, markup=False)


def register(app: typer.Typer) -> None:
    app.add_typer(outbox_app, name="outbox")

    @app.command("deliver")
    def deliver(
        now: NowOption = None,
        worker_id: Annotated[
            str | None,
            typer.Option("--worker-id", help="Name in the send log (default: host:pid)."),
        ] = None,
        once: Annotated[
            bool,
            typer.Option("--once", help="Send everything due now, then exit (cron, tests)."),
        ] = False,
        limit: Annotated[
            int, typer.Option("--limit", min=1, max=10_000, help="Messages per pass.")
        ] = 100,
        as_json: Annotated[bool, typer.Option("--json", help="Print the totals as JSON.")] = False,
    ) -> None:
        """Send due messages from the outbox: each key exactly once, with retries.

        Without --once it keeps running, looking for due messages every
        REGULARS_OUTBOX_POLL_S seconds until stopped (Ctrl-C or SIGTERM). With --now it
        replays that moment once and exits.
        """
        rt = runtime(now)
        wid = worker_id or default_worker_id()
        ways = channels(rt.settings)
        policy = delivery_policy(rt.settings)
        stop = threading.Event()
        if not once and now is None:
            _stop_on_signals(stop)
        total = DeliveryReport()
        keep_running = not once and now is None
        while True:
            try:
                report = deliver_outbox(
                    rt.uow(), ways, now=rt.now(), worker_id=wid, limit=limit, policy=policy
                )
            except SQLAlchemyError as error:
                if not keep_running:
                    raise
                # A database restart must not end a long-running worker; claimed rows are
                # safe (their lease expires), so wait and look again.
                errors.print(f"[{wid}] database error, retrying: {error}", markup=False)
                if stop.wait(rt.settings.outbox_poll_s):
                    break
                continue
            total.add(report)
            if not as_json and report.claimed:
                console.print(f"[{wid}] {_line(report)}", highlight=False, markup=False)
            if report.claimed >= limit and not stop.is_set():
                continue  # more may be due right now
            if not keep_running or stop.wait(rt.settings.outbox_poll_s):
                break
        if as_json:
            console.print_json(json.dumps(total.as_dict() | {"worker_id": wid}))
        else:
            console.print(f"[{wid}] done: {_line(total)}", highlight=False, markup=False)

    @app.command("serve")
    def serve(
        host: Annotated[str | None, typer.Option("--host", help="Address to listen on.")] = None,
        port: Annotated[int | None, typer.Option("--port", help="Port to listen on.")] = None,
        no_scheduler: Annotated[
            bool,
            typer.Option("--no-scheduler", help="Serve only; plans and outbox run elsewhere."),
        ] = False,
    ) -> None:
        """Run the API and the staff console, with the scheduler (daily plans, outbox)."""
        import uvicorn

        from regulars.services.scheduler import Scheduler

        rt = runtime()
        bind_host = host or rt.settings.host
        bind_port = port or rt.settings.port
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
        url = f"http://{bind_host}:{bind_port}"
        console.print(
            f"regulars is running at [bold]{url}/console/[/]  (API: {url}/docs)", soft_wrap=True
        )
        console.print(_login_hint(rt), highlight=False, soft_wrap=True)
        scheduler: Scheduler | None = None
        if not no_scheduler:
            scheduler = Scheduler(
                rt.uow,
                channels(rt.settings),
                clock=rt.now,
                worker_id=f"scheduler:{default_worker_id()}",
                policy=delivery_policy(rt.settings),
                leap_rule=rt.settings.leap_birthday_rule,
            )
            scheduler.start()
            console.print("Scheduler: each location's plan at its local hour; outbox every minute.")
        try:
            # By name: the CLI and the web are sibling adapters and do not import each other.
            uvicorn.run(ASGI_FACTORY, factory=True, host=bind_host, port=bind_port)
        finally:
            if scheduler is not None:
                scheduler.stop.set()


def _login_hint(rt: Runtime) -> str:
    """Point at the demo login when the demo business is loaded."""
    from regulars.demo.catalogue import DEMO_PASSWORD
    from regulars.demo.staffing import OWNER_EMAIL
    from regulars.store.tables import staff

    with rt.engine.connect() as conn:
        owner = conn.scalar(select(staff.c.id).where(staff.c.email == OWNER_EMAIL))
    if owner is None:
        return "No demo data yet: run `regulars demo` for a demo business and its logins."
    return f"Demo login: {OWNER_EMAIL} / {DEMO_PASSWORD}  (more logins: `regulars demo`)"


def _stop_on_signals(stop: threading.Event) -> None:
    """On Ctrl-C or SIGTERM, finish the pass in hand (no message is left half-sent), then stop."""

    def handler(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
