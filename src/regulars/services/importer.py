"""CSV import of customers and events, through the very services the API and console use.

A shop's export from its old system is never clean, so the import is built around the bad
rows: the file's encoding and header are checked before anything is written (a wrong header
writes nothing); every row is then checked on its own, the good ones are written and each
bad one is reported with its line, column and reason. Importing the same file again is a
no-op: customers are recognised by card number or ``external_id``, events by source and
external id. ``dry_run`` runs the whole import in a transaction that is rolled back, so it
finds exactly the problems a real run would.

Customers go through ``services.customers.create_customer`` (each row in a savepoint of one
transaction per batch, so a bad row rolls back alone and batches commit together); events go
through ``services.ingest.append_events`` a batch at a time. The column formats are in
``docs/import-formats.md``.
"""

from __future__ import annotations

import codecs
import csv
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self

from pydantic import ValidationError
from sqlalchemy import Connection, Engine, select

from regulars.domain.access import Actor
from regulars.domain.customers import ConsentIn, CustomerIn, normalise_card_number
from regulars.domain.errors import (
    FieldProblem,
    InvalidInput,
    RegularsError,
    problems_from_pydantic,
)
from regulars.services.access import require
from regulars.services.batching import Savepoint
from regulars.services.customers import create_customer
from regulars.services.event_intake import CLOCK_SLACK, audit_batch, out_of_reach
from regulars.services.ingest import append_events
from regulars.store import lookups
from regulars.store.tables import customer_refs, staff
from regulars.store.uow import UnitOfWork

Outcome = Literal["created", "duplicate", "rejected"]
Progress = Callable[[int], None]

#: Rows written per transaction.
BATCH = 500
CHANNELS = ("email", "sms", "phone", "post")

CUSTOMER_COLUMNS = (
    "card_number",
    "external_id",
    "first_name",
    "last_name",
    "email",
    "phone",
    "birthday",
    "language",
    "preferred_channel",
    "city",
    "status",
    "home_location",
    "owner_email",
    "quiet_hours",
    *(f"consent_{channel}" for channel in CHANNELS),
    *(f"consent_{channel}_at" for channel in CHANNELS),
    *(f"consent_{channel}_source" for channel in CHANNELS),
    "consent_at",
    "consent_source",
)
#: Columns ``regulars export customers`` adds that an import reads past (they are facts the
#: timeline produces, not profile fields anyone types).
EXPORT_ONLY_COLUMNS = (
    "id",
    "external_refs",
    "household",
    "created_at",
    "purchase_count",
    "lifetime_spend",
    "last_visit_at",
    "last_purchase_at",
)
#: Of those, the one an import reads back: an exported customer without a card number is
#: recognised by these references (``source:id|…``), so an export imports again as it was.
READ_BACK_COLUMNS = ("external_refs",)
EVENT_COLUMNS = (
    "type",
    "source",
    "external_id",
    "occurred_at",
    "customer_id",
    "card_number",
    "location",
    "staff_id",
    "channel",
    "currency",
    "sku",
    "category",
    "description",
    "quantity",
    "unit_price",
    "discount",
    "coupon_code",
    "purchase_external_id",
    "data",
)
LINE_COLUMNS = (
    "sku",
    "category",
    "description",
    "quantity",
    "unit_price",
    "discount",
    "coupon_code",
)
INTEGER_COLUMNS = ("customer_id", "staff_id", "quantity", "unit_price", "discount")


@dataclass(frozen=True)
class RowProblem:
    """One reason a row was rejected: the file's line number (header is line 1), column, why."""

    line: int
    column: str
    reason: str


@dataclass
class ImportReport:
    """What an import did (or, on a dry run, would do)."""

    kind: str
    dry_run: bool
    rows: int = 0
    created: int = 0
    duplicates: int = 0
    rejected: int = 0
    problems: list[RowProblem] = field(default_factory=list)

    def add(self, outcome: Outcome, problems: Sequence[RowProblem] = ()) -> None:
        if outcome == "created":
            self.created += 1
        elif outcome == "duplicate":
            self.duplicates += 1
        else:
            self.rejected += 1
            self.problems.extend(problems)


# -- reading the file --------------------------------------------------------------------


def count_lines(path: Path) -> int:
    """Check the file is UTF-8 (a BOM is fine) and count its lines, before anything is written.

    A file saved as Latin-1 or UTF-16 (Excel's default on some systems) is refused as a whole
    with the position of the first bad byte, rather than imported with mangled names.
    """
    if not path.is_file():
        raise InvalidInput([FieldProblem("file", f"{path} does not exist or is not a file")])
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    lines = 0
    offset = 0
    last = b""
    with path.open("rb") as handle:
        head = handle.read(4)
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            raise InvalidInput(
                [
                    FieldProblem(
                        "file", "the file is UTF-16; save it as UTF-8 (in Excel: 'CSV UTF-8')"
                    )
                ]
            )
        handle.seek(0)
        while chunk := handle.read(1 << 20):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as error:
                position = offset + error.start
                bad = chunk[error.start : error.start + 1].hex()
                line = lines + chunk[: error.start].count(b"\n") + 1
                raise InvalidInput(
                    [
                        FieldProblem(
                            "file",
                            f"the file is not UTF-8: byte 0x{bad} at position {position} "
                            f"(line {line}) is not valid UTF-8; save the file as UTF-8 "
                            "(in Excel: 'CSV UTF-8')",
                        )
                    ]
                ) from None
            lines += chunk.count(b"\n")
            offset += len(chunk)
            last = chunk[-1:]
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise InvalidInput(
                [
                    FieldProblem(
                        "file", "the file is not UTF-8: it ends in the middle of a character"
                    )
                ]
            ) from None
    return lines + (1 if last not in (b"", b"\n") else 0)


def _rows(
    path: Path, allowed: Sequence[str], required: Sequence[str], ignored: Sequence[str] = ()
) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    """The header (checked) and an iterator of (line number, row) with blank cells as ''."""
    handle = path.open(encoding="utf-8-sig", newline="")
    reader = csv.reader(handle)
    try:
        header = [name.strip() for name in next(reader)]
    except StopIteration:
        handle.close()
        raise InvalidInput(
            [FieldProblem("header", "the file is empty; the first line must name the columns")]
        ) from None
    except csv.Error as error:
        handle.close()
        raise InvalidInput([FieldProblem("header", f"line 1: {error}")]) from None
    problems = _header_problems(header, allowed, required, ignored)
    if problems:
        handle.close()
        raise InvalidInput(problems)
    # Spreadsheets save a column that was once formatted as an empty header cell (the
    # trailing ",,," of an Excel export): read past it as long as it stays empty.
    unnamed = [i for i, name in enumerate(header) if not name]

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        with handle:
            start = reader.line_num + 1  # a quoted cell may span lines: a row is named by
            try:  # the line it starts on, the one a person finds in the file
                for cells in reader:
                    line, start = start, reader.line_num + 1
                    if not any(cell.strip() for cell in cells):
                        continue
                    if len(cells) != len(header):
                        yield line, {"\0": f"has {len(cells)} cells, the header has {len(header)}"}
                        continue
                    stray = next((i for i in unnamed if cells[i].strip()), None)
                    if stray is not None:
                        yield line, {"\0": f"column {stray + 1} has a value but no name"}
                        continue
                    yield (
                        line,
                        {
                            name: cell.strip()
                            for name, cell in zip(header, cells, strict=True)
                            if name and name not in ignored
                        },
                    )
            except csv.Error as error:
                yield start, {"\0": str(error)}

    return header, rows()


def _header_problems(
    header: list[str], allowed: Sequence[str], required: Sequence[str], ignored: Sequence[str]
) -> list[FieldProblem]:
    problems = []
    if len(header) == 1 and (";" in header[0] or "\t" in header[0]):
        return [
            FieldProblem(
                "header",
                "the columns must be separated by commas; this file "
                "seems to use semicolons or tabs",
            )
        ]
    named = [name for name in header if name]
    unknown = [name for name in named if name not in allowed and name not in ignored]
    if unknown:
        problems.append(
            FieldProblem(
                "header",
                f"unknown column(s): {', '.join(unknown)}; the columns are: {', '.join(allowed)}",
            )
        )
    missing = [name for name in required if name not in header]
    if missing:
        problems.append(FieldProblem("header", f"missing column(s): {', '.join(missing)}"))
    repeated = sorted({name for name in named if named.count(name) > 1})
    if repeated:
        problems.append(FieldProblem("header", f"repeated column(s): {', '.join(repeated)}"))
    return problems


# -- customers ---------------------------------------------------------------------------


def import_customers(
    engine: Engine,
    actor: Actor,
    path: Path,
    *,
    now: datetime,
    source: str = "csv",
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Import customers from a CSV file; see the module docstring and docs/import-formats.md."""
    require(actor, "customers:write")
    count_lines(path)
    _, rows = _rows(
        path,
        (*CUSTOMER_COLUMNS, *READ_BACK_COLUMNS),
        ("first_name",),
        [c for c in EXPORT_ONLY_COLUMNS if c not in READ_BACK_COLUMNS],
    )
    report = ImportReport("customers", dry_run)
    seen: dict[str, int] = {}
    with _Import(engine, dry_run) as job:
        batch: list[tuple[int, dict[str, str]]] = []
        for line, row in rows:
            report.rows += 1
            batch.append((line, row))
            if len(batch) >= BATCH:
                _customer_batch(job, actor, batch, report, seen, source, now)
                job.checkpoint()
                if progress:
                    progress(len(batch))
                batch = []
        if batch:
            _customer_batch(job, actor, batch, report, seen, source, now)
            if progress:
                progress(len(batch))
        job.finish()
    return report


def _customer_batch(
    job: _Import,
    actor: Actor,
    batch: list[tuple[int, dict[str, str]]],
    report: ImportReport,
    seen: dict[str, int],
    source: str,
    now: datetime,
) -> None:
    conn = job.conn
    parsed: list[tuple[int, dict[str, Any], list[str]]] = []
    owners = _staff_by_email(conn, [row.get("owner_email", "") for _, row in batch])
    for line, row in batch:
        if "\0" in row:
            report.add("rejected", [RowProblem(line, "", row["\0"])])
            continue
        data, problems = _customer_data(row, source, owners, now)
        if problems:
            report.add("rejected", [RowProblem(line, p.field, p.message) for p in problems])
            continue
        keys = _customer_keys(data)
        earlier = next((seen[k] for k in keys if k in seen), None)
        if earlier is not None:
            column = "card_number" if keys[0].startswith("card:") else "external_id"
            report.add(
                "rejected", [RowProblem(line, column, f"the same customer as line {earlier}")]
            )
            continue
        for key in keys:
            seen[key] = line
        parsed.append((line, data, keys))
    known = _known_customers(conn, [k for _, _, keys in parsed for k in keys])
    for line, data, keys in parsed:
        if any(k in known for k in keys):
            report.add("duplicate")
            continue
        try:
            create_customer(Savepoint(job.uow), actor, data, now=now)
        except InvalidInput as error:
            report.add(
                "rejected", [RowProblem(line, _column(p.field), p.message) for p in error.problems]
            )
        except RegularsError as error:
            report.add("rejected", [RowProblem(line, _column(error.field or ""), error.message)])
        else:
            report.add("created")


def _customer_data(
    row: dict[str, str], source: str, owners: dict[str, int], now: datetime
) -> tuple[dict[str, Any], list[FieldProblem]]:
    """A CSV row as ``CustomerIn`` input, or the problems that stop it (named by column)."""
    problems: list[FieldProblem] = []
    data: dict[str, Any] = {}
    for name in (
        "card_number",
        "first_name",
        "last_name",
        "email",
        "phone",
        "birthday",
        "language",
        "preferred_channel",
        "city",
        "status",
        "home_location",
    ):
        value = row.get(name, "")
        if value:
            data[name] = value
    refs, ref_problems = _refs(row, source)
    problems += ref_problems
    if not row.get("card_number") and not refs and not ref_problems:
        problems.append(
            FieldProblem(
                "card_number",
                "give a card_number or an external_id, so that importing the file "
                "again recognises this customer",
            )
        )
    if refs:
        data["external_refs"] = refs
    owner = row.get("owner_email", "")
    if owner:
        if owner.lower() in owners:
            data["owner_staff_id"] = owners[owner.lower()]
        else:
            problems.append(FieldProblem("owner_email", "no member of staff has this e-mail"))
    quiet = row.get("quiet_hours", "")
    if quiet:
        window = _quiet_hours(quiet)
        if window is None:
            problems.append(
                FieldProblem("quiet_hours", "write the window as HH:MM-HH:MM, e.g. 21:00-08:00")
            )
        else:
            data["quiet_hours"] = window
    consents, consent_problems = _consents(row, now)
    problems += consent_problems
    if consents:
        data["consents"] = consents
    try:
        CustomerIn.model_validate(data)
    except ValidationError as error:
        problems += [
            FieldProblem(_column(p.field), p.message)
            for p in problems_from_pydantic(error)
            if not p.field.startswith("consents.")  # each already named by ``_consents``
        ]
    return data, problems


def _refs(row: dict[str, str], source: str) -> tuple[dict[str, str], list[FieldProblem]]:
    """The row's references to other systems: ``external_id`` (kept under ``source``) and
    the ``external_refs`` an export writes (``shop:1001|card:FF-1``), one per system."""
    refs: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in row.get("external_refs", "").split("|"))):
        system, _, ref = item.partition(":")
        if not system.strip() or not ref.strip():
            reason = f"{item!r} is not source:id, e.g. shop:1001"
            return {}, [FieldProblem("external_refs", reason)]
        refs.setdefault(system.strip(), ref.strip())
    if row.get("external_id"):
        refs[source] = row["external_id"]
    return refs, []


def _column(field_path: str) -> str:
    """Map a model field path back to the CSV column the user typed it in."""
    if field_path.startswith("consents."):
        return "consent_at"
    if field_path.startswith("external_refs"):
        return "external_id"
    if field_path.startswith("quiet_hours"):
        return "quiet_hours"
    if field_path == "owner_staff_id":
        return "owner_email"
    return field_path


def _quiet_hours(text: str) -> dict[str, str] | None:
    start, sep, end = text.replace(" ", "").partition("-")
    if not sep:
        return None
    try:
        return {
            "start": time.fromisoformat(start).isoformat(),
            "end": time.fromisoformat(end).isoformat(),
        }
    except ValueError:
        return None


YES = {"yes", "y", "true", "1", "granted"}
NO = {"no", "n", "false", "0", "withdrawn", "refused"}


def _consents(
    row: dict[str, str], now: datetime
) -> tuple[list[dict[str, Any]], list[FieldProblem]]:
    out: list[dict[str, Any]] = []
    problems: list[FieldProblem] = []
    for channel in CHANNELS:
        answer = row.get(f"consent_{channel}", "").lower()
        if not answer:
            continue
        if answer not in YES | NO:
            problems.append(FieldProblem(f"consent_{channel}", "write yes or no (or leave empty)"))
            continue
        column = f"consent_{channel}_at" if row.get(f"consent_{channel}_at") else "consent_at"
        at_text = row.get(column, "")
        at: datetime = now
        if at_text:
            try:
                at = datetime.fromisoformat(at_text)
            except ValueError:
                problems.append(
                    FieldProblem(
                        column, "not an ISO 8601 date-time, e.g. 2025-03-01T10:00:00+00:00"
                    )
                )
                continue
            if at.tzinfo is None:
                problems.append(FieldProblem(column, "give a time zone offset, e.g. +00:00"))
                continue
        own = f"consent_{channel}_source"
        how_column = own if row.get(own) else "consent_source"
        consent = {
            "channel": channel,
            "granted": answer in YES,
            "at": at,
            "source": row.get(how_column) or "import",
        }
        try:
            ConsentIn.model_validate(consent)
        except ValidationError as error:
            # Named by the column the value came from (the model only knows "source").
            columns = {"source": how_column, "at": column}
            problems += [
                FieldProblem(columns.get(p.field, f"consent_{channel}"), p.message)
                for p in problems_from_pydantic(error)
            ]
            continue
        out.append(consent)
    return out, problems


def _customer_keys(data: dict[str, Any]) -> list[str]:
    keys = []
    if data.get("card_number"):
        try:
            keys.append("card:" + normalise_card_number(str(data["card_number"])))
        except ValueError:
            keys.append("card:" + str(data["card_number"]))
    refs: dict[str, str] = data.get("external_refs", {})
    keys += [_ref_key(system, ref) for system, ref in refs.items()]
    return keys


def _ref_key(system: str, ref: str) -> str:
    return f"ref:{system}\0{ref}"  # no CSV cell holds a NUL, so the key splits back


def _known_customers(conn: Connection, keys: list[str]) -> set[str]:
    cards = [k.removeprefix("card:") for k in keys if k.startswith("card:")]
    by_system: dict[str, set[str]] = {}
    for key in keys:
        if key.startswith("ref:"):
            system, _, ref = key.removeprefix("ref:").partition("\0")
            by_system.setdefault(system, set()).add(ref)
    known = {f"card:{card}" for card in lookups.customers_by_card(conn, cards)}
    for system, refs in sorted(by_system.items()):
        for part in lookups.chunked(sorted(refs)):
            rows = conn.execute(
                select(customer_refs.c.external_id).where(
                    customer_refs.c.source == system, customer_refs.c.external_id.in_(part)
                )
            )
            known.update(_ref_key(system, ref) for (ref,) in rows)
    return known


def _staff_by_email(conn: Connection, emails: list[str]) -> dict[str, int]:
    wanted = sorted({e.strip().lower() for e in emails if e.strip()})
    found: dict[str, int] = {}
    for part in lookups.chunked(wanted):
        for email, sid in conn.execute(
            select(staff.c.email, staff.c.id).where(staff.c.email.in_(part))
        ):
            found[str(email).lower()] = int(sid)
    return found


# -- events ------------------------------------------------------------------------------


@dataclass
class _Group:
    """The rows of one event (a purchase spans one row per receipt line)."""

    key: tuple[str, str]
    lines: list[int]
    event: dict[str, Any]
    problems: list[RowProblem] = field(default_factory=list)
    #: The first row's envelope columns as typed, which the event's later rows must repeat.
    envelope: dict[str, str] = field(default_factory=dict)


def import_events(
    engine: Engine,
    actor: Actor,
    path: Path,
    *,
    now: datetime,
    source: str = "csv",
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Import events from CSV (one row per purchase line) or JSON Lines (one event per line)."""
    require(actor, "events:write")
    count_lines(path)
    report = ImportReport("events", dry_run)
    groups = (
        _json_lines(path)
        if path.suffix.lower() in (".jsonl", ".ndjson")
        else (_csv_groups(path, source))
    )
    with _Import(engine, dry_run) as job:
        batch: list[_Group] = []
        rows_in_batch = 0
        for group in groups:
            report.rows += len(group.lines)
            rows_in_batch += len(group.lines)
            batch.append(group)
            if len(batch) >= BATCH * 4:
                _event_batch(job.conn, actor, batch, report, now)
                job.checkpoint()
                if progress:
                    progress(rows_in_batch)
                batch, rows_in_batch = [], 0
        if batch:
            _event_batch(job.conn, actor, batch, report, now)
            if progress:
                progress(rows_in_batch)
        job.finish()
    return report


def _event_batch(
    conn: Connection, actor: Actor, batch: list[_Group], report: ImportReport, now: datetime
) -> None:
    """Write a batch's valid events, within the actor's reach, as the API's intake would."""
    for group in batch:
        if group.problems:
            report.add("rejected", group.problems)
    valid = [g for g in batch if not g.problems]
    refused = out_of_reach(conn, actor, [g.event for g in valid])
    for index, problem in refused.items():
        report.add("rejected", [_event_problem(valid[index], problem)])
    valid = [g for i, g in enumerate(valid) if i not in refused]
    result, _ = append_events(conn, [g.event for g in valid], now=now, not_after=now + CLOCK_SLACK)
    for group, item in zip(valid, result.results, strict=True):
        if item.status == "rejected":
            report.add("rejected", [_event_problem(group, p) for p in item.errors])
        else:
            report.add(item.status)
    audit_batch(conn, actor, result, now=now, action="events.import")


def _event_problem(group: _Group, problem: FieldProblem) -> RowProblem:
    """Point at the row and column of a rejected event (``lines.2.quantity`` → 3rd row)."""
    parts = problem.field.split(".")
    if parts[0] == "lines" and len(parts) >= 2 and parts[1].isdigit():
        index = int(parts[1])
        line = group.lines[index] if index < len(group.lines) else group.lines[0]
        return RowProblem(line, parts[2] if len(parts) > 2 else "sku", problem.message)
    column = parts[0] if parts[0] in EVENT_COLUMNS else f"data.{problem.field}"
    if not problem.field:
        column = ""
    return RowProblem(group.lines[0], column, problem.message)


#: Columns that describe the whole event rather than one of its lines.
ENVELOPE_COLUMNS = (
    "data",
    "type",
    "external_id",
    "occurred_at",
    "card_number",
    "location",
    "channel",
    "currency",
    "purchase_external_id",
    "customer_id",
    "staff_id",
)


def _csv_groups(path: Path, default_source: str) -> Iterator[_Group]:
    """Consecutive rows with the same source and external_id make one event."""
    _, rows = _rows(path, EVENT_COLUMNS, ("type", "external_id", "occurred_at"))
    finished: dict[tuple[str, str], int] = {}
    current: _Group | None = None
    for line, row in rows:
        if "\0" in row:
            if current is not None:
                finished[current.key] = current.lines[0]
                yield current
                current = None
            yield _Group(("", f"line {line}"), [line], {}, [RowProblem(line, "", row["\0"])])
            continue
        key = (row.get("source") or default_source, row.get("external_id", ""))
        if current is not None and current.key == key and key[1]:
            _check_same_envelope(current, line, row)
            _add_line(current, line, row)
            continue
        if current is not None:
            finished[current.key] = current.lines[0]
            yield current
        current = _start_group(key, line, row)
        if key in finished:
            current.problems.append(
                RowProblem(
                    line,
                    "external_id",
                    f"the rows of one event must be consecutive; "
                    f"{key[1]!r} started at line {finished[key]}",
                )
            )
    if current is not None:
        yield current


def _start_group(key: tuple[str, str], line: int, row: dict[str, str]) -> _Group:
    event: dict[str, Any] = {}
    problems: list[RowProblem] = []
    data = row.get("data", "")
    if data:
        try:
            extra = json.loads(data)
        except json.JSONDecodeError as error:
            extra = None
            problems.append(RowProblem(line, "data", f"not valid JSON: {error.msg}"))
        if extra is not None and not isinstance(extra, dict):
            problems.append(
                RowProblem(line, "data", 'must be a JSON object, e.g. {"kind": "check_in"}')
            )
        elif extra is not None:
            event.update(extra)
    for name in ENVELOPE_COLUMNS:
        value = row.get(name, "")
        if not value or name == "data":  # read above, merged under the named columns
            continue
        if name in INTEGER_COLUMNS:
            number = _integer(value)
            if number is None:
                problems.append(RowProblem(line, name, "must be a whole number"))
                continue
            event[name] = number
        else:
            event[name] = value
    event["source"] = key[0]
    typed = {name: row[name] for name in ENVELOPE_COLUMNS if row.get(name)}
    group = _Group(key, [], event, problems, typed)
    _add_line(group, line, row)
    return group


def _check_same_envelope(group: _Group, line: int, row: dict[str, str]) -> None:
    """A later row of the same event may leave the envelope columns empty or repeat them;
    a different value (another time, another customer) is a mistake in the file, not
    something to ignore silently."""
    for name in ENVELOPE_COLUMNS:
        value = row.get(name, "")
        if value and value != group.envelope.get(name, ""):
            group.problems.append(
                RowProblem(
                    line,
                    name,
                    f"differs from line {group.lines[0]}, where this event starts: every "
                    "row of one event repeats its columns or leaves them empty",
                )
            )


def _add_line(group: _Group, line: int, row: dict[str, str]) -> None:
    """A receipt line (purchase) or returned line (return) from the line columns of a row."""
    group.lines.append(line)
    if not row.get("sku"):
        if group.event.get("type") in ("purchase", "return") and "lines" not in group.event:
            group.problems.append(
                RowProblem(line, "sku", f"a {group.event['type']} needs a sku on each of its rows")
            )
        return
    item: dict[str, Any] = {}
    for name in LINE_COLUMNS:
        value = row.get(name, "")
        if not value:
            continue
        if name in INTEGER_COLUMNS:
            number = _integer(value)
            if number is None:
                reason = "must be a whole number" + (
                    " in minor units (cents): 3.50 is written 350" if "." in value else ""
                )
                group.problems.append(RowProblem(line, name, reason))
                continue
            item[name] = number
        else:
            item[name] = value
    lines: list[dict[str, Any]] = group.event.setdefault("lines", [])
    lines.append(item)


def _integer(text: str) -> int | None:
    try:
        return int(text.replace("_", ""))
    except ValueError:
        return None


def _json_lines(path: Path) -> Iterator[_Group]:
    with path.open(encoding="utf-8-sig") as handle:
        for number, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                event = json.loads(text)
            except json.JSONDecodeError as error:
                yield _Group(
                    ("", f"line {number}"),
                    [number],
                    {},
                    [RowProblem(number, "", f"not valid JSON: {error.msg}")],
                )
                continue
            if not isinstance(event, dict):
                yield _Group(
                    ("", f"line {number}"),
                    [number],
                    {},
                    [RowProblem(number, "", "each line must be a JSON object")],
                )
                continue
            key = (str(event.get("source", "")), str(event.get("external_id", "")))
            yield _Group(key, [number], event)


# -- transactions ------------------------------------------------------------------------


class _Import:
    """The import's transaction: committed batch by batch, or rolled back whole on a dry run."""

    def __init__(self, engine: Engine, dry_run: bool) -> None:
        self.uow = UnitOfWork(engine)
        self.dry_run = dry_run

    @property
    def conn(self) -> Connection:
        return self.uow.conn

    def __enter__(self) -> Self:
        self.uow.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.uow.__exit__(exc_type, exc, tb)

    def checkpoint(self) -> None:
        """Commit what the batch wrote (a dry run keeps everything until it rolls back)."""
        if not self.dry_run:
            self.uow.commit()

    def finish(self) -> None:
        if self.dry_run:
            self.uow.rollback()
        else:
            self.uow.commit()


__all__ = [
    "CUSTOMER_COLUMNS",
    "EVENT_COLUMNS",
    "EXPORT_ONLY_COLUMNS",
    "READ_BACK_COLUMNS",
    "ImportReport",
    "RowProblem",
    "count_lines",
    "import_customers",
    "import_events",
]
