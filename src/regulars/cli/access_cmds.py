"""``regulars staff …``, ``regulars apikey …`` and ``regulars customer export|erase``.

The command line acts as regulars itself (the ``cli`` actor): whoever can run it on the
server already holds the database, so it may add the first owner and issue any key.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from regulars.cli.common import NowOption, console, fail, runtime, written_when_done
from regulars.domain.access import CLI
from regulars.domain.errors import InvalidInput, RegularsError
from regulars.services import accounts, privacy

staff_app = typer.Typer(help="Staff accounts: add, set a password, list.", no_args_is_help=True)
apikey_app = typer.Typer(help="API keys for integrations.", no_args_is_help=True)
customer_app = typer.Typer(help="A customer's data: export or erase.", no_args_is_help=True)


def _explain(error: RegularsError) -> typer.Exit:
    if isinstance(error, InvalidInput):
        return fail("; ".join(str(p) for p in error.problems))
    return fail(f"{error.field}: {error.message}" if error.field else error.message)


def _password(given: str | None) -> str:
    if given is not None:
        return given
    if not sys.stdin.isatty():
        line = sys.stdin.readline().rstrip("\n")
        if not line:
            fail("--password: give a password (or type it when asked)")
        return line
    value: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return value


@staff_app.command("add")
def staff_add(
    email: Annotated[str, typer.Argument(help="Their e-mail; also their login.")],
    name: Annotated[str, typer.Option("--name", help="Full name as colleagues know it.")],
    role: Annotated[str, typer.Option("--role", help="owner, manager, staff or rep.")] = "staff",
    location: Annotated[
        list[str], typer.Option("--location", help="Location code (repeatable).")
    ] = [],  # noqa: B006 - typer reads list defaults, it does not mutate them
    capacity: Annotated[int, typer.Option("--calls", help="Calls a day (reps).")] = 0,
    password: Annotated[
        str | None,
        typer.Option("--password", help="Omit to type it (or pipe it on stdin)."),
    ] = None,
    no_password: Annotated[
        bool, typer.Option("--no-password", help="An account that cannot sign in yet.")
    ] = False,
    now: NowOption = None,
) -> None:
    """Add a member of staff who can sign in to the console."""
    rt = runtime(now)
    secret = None if no_password else _password(password)
    data = {
        "email": email,
        "name": name,
        "role": role,
        "locations": list(location),
        "daily_call_capacity": capacity,
    }
    try:
        staff_id = accounts.add_staff(rt.uow(), CLI, data, password=secret, now=rt.now())
    except RegularsError as error:
        raise _explain(error) from None
    console.print(f"Added [bold]{name}[/] ({role}) as staff #{staff_id}; login: {email}")


@staff_app.command("passwd")
def staff_passwd(
    email: Annotated[str, typer.Argument(help="Their e-mail.")],
    password: Annotated[
        str | None,
        typer.Option("--password", help="Omit to type it (or pipe it on stdin)."),
    ] = None,
    now: NowOption = None,
) -> None:
    """Set a new password; the person's open sessions end."""
    rt = runtime(now)
    try:
        accounts.set_password(rt.uow(), CLI, email, _password(password), now=rt.now())
    except RegularsError as error:
        raise _explain(error) from None
    console.print(f"Password changed for {email}; their sessions were signed out.")


@staff_app.command("list")
def staff_list() -> None:
    """Everyone on staff, with role and locations."""
    rt = runtime()
    table = Table("id", "name", "e-mail", "role", "locations", "can sign in")
    for s in accounts.list_staff(rt.uow(readonly=True), CLI):
        table.add_row(
            str(s.id),
            s.name,
            s.email,
            s.role,
            ", ".join(s.locations),
            "yes" if s.has_password and s.active else "no",
        )
    console.print(table)


@apikey_app.command("create")
def apikey_create(
    name: Annotated[str, typer.Argument(help="What the key is for, e.g. 'till at CAFE-LIS'.")],
    role: Annotated[str, typer.Option("--role", help="The role it acts with.")] = "staff",
    location: Annotated[
        list[str],
        typer.Option("--location", help="Location code (repeatable); omit for the whole business."),
    ] = [],  # noqa: B006 - typer reads list defaults, it does not mutate them
    permission: Annotated[
        list[str],
        typer.Option("--permission", help="e.g. events:write (repeatable); omit for all."),
    ] = [],  # noqa: B006 - typer reads list defaults, it does not mutate them
    now: NowOption = None,
) -> None:
    """Issue an API key. It is printed once; only a digest is kept."""
    rt = runtime(now)
    data = {
        "name": name,
        "role": role,
        "locations": list(location) or None,
        "permissions": list(permission) or None,
    }
    try:
        new = accounts.create_api_key(rt.uow(), CLI, data, now=rt.now())
    except RegularsError as error:
        raise _explain(error) from None
    console.print(f"API key #{new.id} ({name}). Store it now; it is not shown again:")
    print(new.secret)


@apikey_app.command("list")
def apikey_list() -> None:
    """Every key with its reach; the secret itself is never shown."""
    rt = runtime()
    table = Table("id", "name", "prefix", "role", "locations", "permissions", "state")
    for k in accounts.list_api_keys(rt.uow(readonly=True), CLI):
        table.add_row(
            str(k.id),
            k.name,
            f"rk_{k.prefix}_…",
            k.role,
            ", ".join(k.locations) if k.locations is not None else "all",
            ", ".join(k.permissions) if k.permissions is not None else "all",
            f"revoked {k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else "active",
        )
    console.print(table)


@apikey_app.command("revoke")
def apikey_revoke(
    key_id: Annotated[int, typer.Argument(help="The key's id (see `regulars apikey list`).")],
    now: NowOption = None,
) -> None:
    """Stop a key at once."""
    rt = runtime(now)
    try:
        accounts.revoke_api_key(rt.uow(), CLI, key_id, now=rt.now())
    except RegularsError as error:
        raise _explain(error) from None
    console.print(f"API key #{key_id} revoked.")


@customer_app.command("export")
def customer_export(
    customer_id: Annotated[int, typer.Argument(help="The customer's id.")],
    out: Annotated[
        Path | None, typer.Option("--out", help="Write to this file instead of stdout.")
    ] = None,
    now: NowOption = None,
) -> None:
    """Everything held about a customer, as JSON (for a data access request)."""
    rt = runtime(now)
    if out is None:
        try:
            document = privacy.export_customer(rt.uow(), CLI, customer_id, now=rt.now())
        except RegularsError as error:
            raise _explain(error) from None
        sys.stdout.write(_as_json(document))
        return
    # The file is checked first: the export is audited, so it must not fail after it.
    with written_when_done(out) as handle:
        try:
            document = privacy.export_customer(rt.uow(), CLI, customer_id, now=rt.now())
        except RegularsError as error:
            raise _explain(error) from None
        handle.write(_as_json(document))
    console.print(f"Wrote {out}")


def _as_json(document: object) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n"


@customer_app.command("erase")
def customer_erase(
    customer_id: Annotated[int, typer.Argument(help="The customer's id.")],
    yes: Annotated[bool, typer.Option("--yes", help="Confirm: this cannot be undone.")] = False,
    now: NowOption = None,
) -> None:
    """Erase a customer's personal data; purchases and points totals stay."""
    if not yes:
        fail("erasure cannot be undone; add --yes to confirm")
    rt = runtime(now)
    try:
        privacy.erase_customer(rt.uow(), CLI, customer_id, now=rt.now(), confirm=True)
    except RegularsError as error:
        raise _explain(error) from None
    console.print(f"Customer #{customer_id} erased.")


def register(app: typer.Typer) -> None:
    app.add_typer(staff_app, name="staff")
    app.add_typer(apikey_app, name="apikey")
    app.add_typer(customer_app, name="customer")
