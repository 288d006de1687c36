"""How ``soni confirmations`` shows records: as JSON, as a table, as a detail page."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from rich import box
from rich.console import Console, Group, RenderableType
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from soni.confirmations import Actor, HistoryEntry, PendingConfirmation, Status

__all__ = (
    "decision_line",
    "detail",
    "history_data",
    "plain",
    "print_whole",
    "record_data",
    "records_table",
    "when",
)

_UNBOUNDED = 10_000

_STYLES = {
    Status.PENDING: "yellow",
    Status.SHOWN: "yellow",
    Status.APPROVED: "cyan",
    Status.EXECUTING: "cyan",
    Status.EXECUTED: "green",
    Status.FAILED: "red",
    Status.INTERRUPTED: "magenta",
}


def plain(value: object) -> Text:
    """A value as rich shows it literally: never read as markup (``[team-a]``, ``c[/]``)
    or as an emoji code (``:smile:``).

    Ids, names, prompts and error texts come from callers, users and handlers: every
    one goes to rich through this (or another ``Text``).
    """
    return value if isinstance(value, Text) else Text(str(value))


def when(at: datetime | None) -> str:
    """A time as ``2026-11-23 15:26:20`` in UTC (``-`` for none)."""
    if at is None:
        return "-"
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def moment(at: datetime, now: datetime) -> str:
    """A time in few characters, as ``ls -l`` does: today's as ``17:23:14``, others' day."""
    at = at.astimezone(UTC)
    return at.strftime("%H:%M:%S" if at.date() == now.astimezone(UTC).date() else "%Y-%m-%d")


def relative(at: datetime, now: datetime) -> str:
    """``in 4m 59s`` or ``3h 2m ago``."""
    seconds = int((at - now).total_seconds())
    left = abs(seconds)
    days, rest = divmod(left, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [(days, "d"), (hours, "h"), (minutes, "m"), (secs, "s")]
    shown = [f"{n}{unit}" for n, unit in parts if n][:2] or ["0s"]
    text = " ".join(shown)
    return f"in {text}" if seconds > 0 else f"{text} ago"


def _actor(actor: Actor | None) -> dict[str, Any] | None:
    return None if actor is None else {"user_id": actor.user_id, "channel": actor.channel}


def record_data(record: PendingConfirmation) -> dict[str, Any]:
    """The record as JSON-able data: everything but the token's hash."""
    return {
        "id": record.id,
        "conversation_id": record.conversation_id,
        "user_id": record.user_id,
        "status": record.status.value,
        "kind": record.kind,
        "prompt": record.prompt,
        "actions": [call.to_json() for call in record.actions],
        "created_at": record.created_at.isoformat(),
        "expires_at": record.expires_at.isoformat(),
        "decision": record.decision,
        "decided_by": _actor(record.decided_by),
        "decided_at": record.decided_at.isoformat() if record.decided_at else None,
        "result": dict(record.result) if record.result is not None else None,
        "error": record.error,
        "key": record.key,
        "updated_at": record.updated_at.isoformat() if record.updated_at else None,
    }


def history_data(entries: Iterable[HistoryEntry]) -> list[dict[str, Any]]:
    return [
        {
            "from": entry.from_status.value if entry.from_status else None,
            "to": entry.to_status.value,
            "actor": _actor(entry.actor),
            "at": entry.at.isoformat(),
        }
        for entry in entries
    ]


def _status(status: Status) -> Text:
    return Text(status.value, style=_STYLES.get(status, "dim"))


def _offers(record: PendingConfirmation) -> str:
    return ", ".join(f"{c.key} ({c.label})" if c.label else c.key for c in record.actions)


def _expiry(record: PendingConfirmation, now: datetime) -> str:
    # Once decided or withdrawn, when it would have expired no longer matters.
    if record.is_open or record.status is Status.EXPIRED:
        return relative(record.expires_at, now)
    return "-"


def records_table(records: Sequence[PendingConfirmation], now: datetime) -> Table:
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, padding=(0, 1, 0, 0), header_style="bold")
    # An id is copied into the next command: never wrapped or cut.
    table.add_column("id", no_wrap=True, min_width=len(records[0].id) if records else None)
    for column in ("conversation", "user", "status"):
        table.add_column(column, no_wrap=True)
    table.add_column("actions", overflow="fold", min_width=12)
    table.add_column("prompt", overflow="fold", min_width=20)
    table.add_column("created (UTC)", no_wrap=True)
    table.add_column("expires", no_wrap=True)
    for record in records:
        table.add_row(
            plain(record.id),
            plain(record.conversation_id),
            plain(record.user_id or "-"),
            _status(record.status),
            plain(_offers(record)),
            plain(record.prompt),
            plain(moment(record.created_at, now)),
            plain(_expiry(record, now)),
        )
    return table


def decision_line(record: PendingConfirmation) -> str:
    """``'execute_transfer' by cli via cli at 2026-…`` — or ``undecided``."""
    if record.decision is None:
        return "undecided"
    by = f" by {record.decided_by}" if record.decided_by is not None else ""
    at = f" at {when(record.decided_at)} UTC" if record.decided_at is not None else ""
    return f"{record.decision!r}{by}{at}"


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def detail(record: PendingConfirmation, history: Sequence[HistoryEntry]) -> RenderableType:
    """The record field by field, then its history."""
    rows: list[tuple[str, str | Text]] = [
        ("conversation", record.conversation_id),
        ("user", record.user_id or "-"),
        ("status", _status(record.status)),
        ("kind", record.kind),
        ("prompt", record.prompt),
    ]
    for call in record.actions:
        label = f" ({call.label})" if call.label else ""
        named = f"{call.key} → {call.name}" if call.option else call.name
        rows.append(("action", f"{named}{label} {_json(dict(call.args))}"))
    rows += [
        ("created", f"{when(record.created_at)} UTC"),
        ("expires", f"{when(record.expires_at)} UTC"),
        ("decision", decision_line(record)),
    ]
    if record.result is not None:
        rows.append(("result", _json(dict(record.result))))
    if record.error is not None:
        rows.append(("error", record.error))
    if record.key is not None:
        rows.append(("key", record.key))
    fields = Text()
    for name, value in rows:
        fields.append(f"{name:<14}", style="bold").append(value).append("\n")

    steps = Table(box=box.SIMPLE_HEAD, show_edge=False, padding=(0, 1, 0, 0), header_style="bold")
    for column in ("at (UTC)", "from", "to", "by"):
        steps.add_column(column, no_wrap=True)
    for entry in history:
        steps.add_row(
            plain(when(entry.at)),
            plain(entry.from_status.value if entry.from_status else "-"),
            _status(entry.to_status),
            plain(entry.actor),
        )
    heading = Text(f"confirmation {record.id}", style="bold")
    return Group(heading, fields, Text("history", style="bold"), steps)


def print_whole(console: Console, renderable: RenderableType) -> None:
    """Print a table; off a terminal (a pipe, a file) at its natural width, rows unwrapped."""
    if console.is_terminal:
        console.print(renderable)
        return
    options = console.options.update_width(_UNBOUNDED)
    width = max(console.width, Measurement.get(console, options, renderable).maximum)
    # Console.print never goes wider than its console: print through a wider one.
    wide = Console(file=console.file, width=width, highlight=False, color_system=None)
    wide.print(renderable)
