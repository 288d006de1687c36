"""``soni confirmations``: operate on a confirmation store directly.

No bot and no server: the commands open the bot's database (the SQLite file or
PostgreSQL URL ``soni serve --db`` and ``Bot.load(db=...)`` use) and go through the
ConfirmationRegistry, so a decision made here is the same compare-and-set, with
the same audit entry, as one made from the chat. A conversation waiting on the
confirmation reads the decision at its next turn; on PostgreSQL, the servers
sharing the database hear of it at once (``announce_confirmations``).

``list`` and ``show`` first settle runs whose process is gone (``interrupted``), so
they tell the truth while no server runs; ``resolve`` records what an operator
found out about one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shlex
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.text import Text

from soni.cli._app import app
from soni.cli._confirm_view import (
    decision_line,
    detail,
    history_data,
    print_whole,
    record_data,
    records_table,
)
from soni.cli._db import DB_ENVVAR, check_postgres, check_soni_sqlite, is_url, shown
from soni.cli._output import console, err_console, fail, print_json, reported
from soni.confirmations import (
    AlreadyDecided,
    ConfirmationClosed,
    ConfirmationExpired,
    ConfirmationNotApproved,
    ConfirmationRegistry,
    HistoryEntry,
    InvalidDecision,
    PendingConfirmation,
    Status,
)

__all__ = ("EXIT_ALREADY_DECIDED", "EXIT_CLOSED", "EXIT_EXPIRED", "EXIT_INVALID", "EXIT_UNKNOWN")

EXIT_INVALID = 2
"""Bad input: an unknown status, an option that is not offered (as for a usage error)."""
EXIT_UNKNOWN = 3
"""No confirmation has that id."""
EXIT_ALREADY_DECIDED = 4
"""A different decision was recorded first."""
EXIT_EXPIRED = 5
"""Its time ran out before the decision."""
EXIT_CLOSED = 6
"""It was withdrawn: superseded by a corrected value, or cancelled with its flow."""

T = TypeVar("T")

confirmations = typer.Typer(
    help="List, inspect and decide pending confirmations in a bot's database.",
    no_args_is_help=True,
)
app.add_typer(confirmations, name="confirmations")

Db = Annotated[
    str,
    typer.Option(
        "--db",
        envvar=DB_ENVVAR,
        help="The bot's database: its SQLite file or postgresql:// URL (as given to soni serve).",
        show_default=False,
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON, for scripts.")]
ConfirmationId = Annotated[
    str, typer.Argument(metavar="ID", help="The confirmation's id (not its token).")
]
Decider = Annotated[str, typer.Option("--actor", help="Who decides, for the audit trail.")]
OptionalId = Annotated[
    str | None,
    typer.Argument(metavar="ID", help="The confirmation's id (not its token).", show_default=False),
]
Waiting = Annotated[
    str | None,
    typer.Option(
        "--conversation",
        help="Instead of an id: the confirmation this conversation waits on (show: its latest).",
        show_default=False,
    ),
]


def _check_database(db: str) -> None:
    """Refuse anything but an existing soni database: never create an empty one.

    PostgreSQL is only tried here; a database without soni's tables is refused
    when the storage opens (``migrate=False``), naming ``soni db migrate``.
    """
    if is_url(db):
        check_postgres(db)
    else:
        check_soni_sqlite(Path(db))


def _run(
    db: str,
    work: Callable[[ConfirmationRegistry], Awaitable[T]],
    *,
    retention: timedelta = timedelta(days=30),
) -> T:
    _check_database(db)

    async def run() -> T:
        from soni.storage import announce_confirmations, open_storage

        # Neither listening (this command hears nobody) nor creating tables: a
        # command that reads confirmations never sets up a database.
        storage = await open_storage(db, listen=False, migrate=False)
        try:
            # The storage's runner sits beside the bot's (a lock beside the SQLite
            # file, a session lock in PostgreSQL): it tells whether a run's process
            # is alive, and other processes see this one while it decides.
            registry = ConfirmationRegistry(
                storage.confirmations, retention=retention, runner=storage.runner
            )
            # Servers on a shared database hear this command's decisions at once:
            # their waiters wake and their event streams show it.
            stop_announcing = announce_confirmations(storage, registry)
            try:
                return await work(registry)
            finally:
                stop_announcing()
                await registry.aclose()
        finally:
            await storage.close()

    with reported():
        return asyncio.run(run())


def _unknown(confirmation_id: str, db: str) -> None:
    fail(f"no confirmation {confirmation_id} in {shown(db)}", code=EXIT_UNKNOWN)


@confirmations.command("list")
def list_(
    db: Db,
    status: Annotated[
        list[str] | None,
        typer.Option(
            help="Only these statuses (repeat the option for several).", show_default=False
        ),
    ] = None,
    conversation: Annotated[
        str | None, typer.Option(help="Only this conversation's.", show_default=False)
    ] = None,
    user: Annotated[str | None, typer.Option(help="Only this user's.", show_default=False)] = None,
    limit: Annotated[int | None, typer.Option(help="At most this many.", min=0)] = None,
    as_json: AsJson = False,
) -> None:
    """List confirmations, oldest first."""
    known = [s.value for s in Status]
    for wanted in status or ():
        if wanted not in known:
            fail(f"unknown status {wanted!r}; one of: {', '.join(known)}", code=EXIT_INVALID)

    async def work(registry: ConfirmationRegistry) -> list[PendingConfirmation]:
        await registry.recover()
        return await registry.list(
            conversation_id=conversation, user_id=user, status=status or None, limit=limit
        )

    records = _run(db, work)
    with reported():
        if as_json:
            print_json([record_data(r) for r in records])
        elif records:
            print_whole(console, records_table(records, datetime.now(UTC)))
        else:
            err_console.print("no confirmations")


@confirmations.command()
def show(
    db: Db,
    confirmation_id: OptionalId = None,
    conversation: Waiting = None,
    as_json: AsJson = False,
) -> None:
    """Show one confirmation and its full history."""
    _one_of(confirmation_id, conversation)

    async def work(
        registry: ConfirmationRegistry,
    ) -> tuple[PendingConfirmation | None, list[HistoryEntry]]:
        await registry.recover()
        record = await _target(registry, confirmation_id, conversation, latest=True)
        return record, (await registry.history(record.id) if record else [])

    record, history = _run(db, work)
    if record is None:
        _unknown(str(confirmation_id), db)
    assert record is not None
    with reported():
        if as_json:
            print_json({**record_data(record), "history": history_data(history)})
        else:
            print_whole(console, detail(record, history))


@contextlib.contextmanager
def _refusals() -> Iterator[None]:
    """A refused decision as one line and its own exit code."""
    try:
        yield
    except AlreadyDecided as exc:
        recorded = f"{exc.decision!r}" if exc.decision else "decided"
        by = f" by {exc.decided_by}" if exc.decided_by is not None else ""
        fail(
            f"confirmation {exc.confirmation_id} was already decided: {recorded}{by}"
            f" ({exc.status})",
            code=EXIT_ALREADY_DECIDED,
        )
    except ConfirmationExpired as exc:
        fail(f"confirmation {exc.confirmation_id} expired; nothing was decided", code=EXIT_EXPIRED)
    except ConfirmationClosed as exc:
        fail(str(exc), code=EXIT_CLOSED)
    except InvalidDecision as exc:
        fail(str(exc), code=EXIT_INVALID)


def _one_of(confirmation_id: str | None, conversation: str | None) -> None:
    if (confirmation_id is None) == (conversation is None):
        fail("give a confirmation id or --conversation (one of them)", code=EXIT_INVALID)


async def _target(
    registry: ConfirmationRegistry,
    confirmation_id: str | None,
    conversation: str | None,
    *,
    latest: bool = False,
) -> PendingConfirmation | None:
    """The confirmation named by its id, or the one its conversation waits on (or had last)."""
    if confirmation_id is not None:
        return await registry.get_by_id(confirmation_id)
    assert conversation is not None
    if latest:
        every = await registry.list(conversation_id=conversation)
        if not every:
            fail(f"conversation {conversation} has no confirmations", code=EXIT_UNKNOWN)
        return every[-1]
    waiting = await registry.list(
        conversation_id=conversation, status=(Status.PENDING, Status.SHOWN)
    )
    if not waiting:
        fail(f"conversation {conversation} waits on no confirmation", code=EXIT_UNKNOWN)
    if len(waiting) > 1:
        ids = ", ".join(r.id for r in waiting)
        fail(
            f"conversation {conversation} waits on {len(waiting)} confirmations ({ids}):"
            " give one's id",
            code=EXIT_INVALID,
        )
    return waiting[0]


def _offered(record: PendingConfirmation, option: str) -> str:
    """The offered action ``option`` names, by its name or by its label.

    As a conversation test's ``choose:`` reads it (``soni.testing``): a name first,
    then a label, exactly as written.

    Raises:
        typer.Exit: (2) ``option`` names no offered action.
    """
    named = record.option_named(option)
    if named is not None:
        return named
    offered = ", ".join(
        f"{call.key!r} ({call.label!r})" if call.label else repr(call.key)
        for call in record.actions
    )
    fail(f"{option!r} is not an offered option; choose one of {offered}", code=EXIT_INVALID)


def _decide(
    confirmation_id: str | None,
    decision: str,
    db: str,
    actor: str,
    as_json: bool,
    conversation: str | None = None,
    *,
    choose: bool = False,
) -> None:
    _one_of(confirmation_id, conversation)

    async def work(
        registry: ConfirmationRegistry,
    ) -> tuple[PendingConfirmation, PendingConfirmation] | None:
        record = await _target(registry, confirmation_id, conversation)
        if record is None:
            return None
        wanted = _offered(record, decision) if choose else decision
        # By the record: the token is stored only as its hash, and an operator
        # holding the database is trusted with every confirmation in it.
        with _refusals():
            decided = await registry.decide(record, wanted, actor=actor, channel="cli")
        return record, decided

    outcome = _run(db, work)
    if outcome is None:
        _unknown(str(confirmation_id), db)
    assert outcome is not None
    before, record = outcome
    with _recorded(record):
        _print_decision(before, record, as_json=as_json)


def _print_decision(
    before: PendingConfirmation, record: PendingConfirmation, *, as_json: bool
) -> None:
    if as_json:
        print_json(record_data(record))
        return
    verb = "skipped" if record.status is Status.SKIPPED else "approved"
    if not before.is_open:
        console.print(Text(f"already {verb}: {decision_line(record)} ({record.status.value})"))
        return
    console.print(Text(f"{verb} {record.id}: {decision_line(record)}"))
    console.print(
        Text(f"conversation {record.conversation_id} goes on with its next message", style="dim")
    )


@contextlib.contextmanager
def _recorded(record: PendingConfirmation) -> Iterator[None]:
    """Printing a decision that is recorded: a failure to print is a warning, exit 0.

    The decision stands whatever happens to its printout (a closed pipe, say); a
    script must not read a non-zero exit as "nothing was decided" and try again.
    """
    try:
        yield
    except (typer.Exit, typer.Abort):
        raise
    except Exception as exc:  # the decision stands: one line, and exit 0
        typer.secho(
            f"warning: confirmation {record.id} is {record.status.value}"
            f" ({record.decision!r}), but printing it failed: {type(exc).__name__}: {exc}",
            fg=typer.colors.YELLOW,
            err=True,
        )


@confirmations.command()
def approve(
    db: Db,
    confirmation_id: OptionalId = None,
    conversation: Waiting = None,
    actor: Decider = "cli",
    as_json: AsJson = False,
) -> None:
    """Approve a confirmation's action (a choice of one option too)."""
    _decide(confirmation_id, "approve", db, actor, as_json, conversation)


@confirmations.command()
def skip(
    db: Db,
    confirmation_id: OptionalId = None,
    conversation: Waiting = None,
    actor: Decider = "cli",
    as_json: AsJson = False,
) -> None:
    """Say no: the action will not run."""
    _decide(confirmation_id, "skip", db, actor, as_json, conversation)


@confirmations.command()
def choose(
    confirmation_id: ConfirmationId,
    option: Annotated[
        str, typer.Argument(help="One offered action: its name, or its label as the chat shows it.")
    ],
    db: Db,
    actor: Decider = "cli",
    as_json: AsJson = False,
) -> None:
    """Approve one of the actions a choice offers (by its name or its label)."""
    if option == "skip":
        fail(
            "choose picks one of the offered actions; to say no, use: soni confirmations skip "
            f"{shlex.quote(confirmation_id)} --db {shlex.quote(shown(db))}",
            code=EXIT_INVALID,
        )
    _decide(confirmation_id, option, db, actor, as_json, choose=True)


@confirmations.command()
def resolve(
    confirmation_id: ConfirmationId,
    db: Db,
    executed: Annotated[
        bool, typer.Option("--executed", help="The action did happen.", show_default=False)
    ] = False,
    failed: Annotated[
        str | None,
        typer.Option(
            "--failed", metavar="REASON", help="The action did not happen: why.", show_default=False
        ),
    ] = None,
    result: Annotated[
        str | None,
        typer.Option(
            metavar="JSON",
            help="With --executed: the action's result, a JSON object.",
            show_default=False,
        ),
    ] = None,
    actor: Decider = "cli",
    as_json: AsJson = False,
) -> None:
    """Record what an interrupted run really did, once you have checked."""
    if executed == (failed is not None):
        fail("give --executed or --failed REASON (one of them)", code=EXIT_INVALID)
    if result is not None and not executed:
        fail("--result goes with --executed", code=EXIT_INVALID)
    outcome = _json_object(result) if result is not None else {}

    async def work(registry: ConfirmationRegistry) -> PendingConfirmation | None:
        await registry.recover()
        record = await registry.get_by_id(confirmation_id)
        if record is None:
            return None
        try:
            return await registry.resolve(
                record,
                outcome if executed else None,
                error=failed,
                actor=actor,
                channel="cli",
            )
        except ConfirmationNotApproved:
            fail(
                f"confirmation {record.id} is not an interrupted run (it is"
                f" {record.status.value}); nothing was recorded",
                code=EXIT_INVALID,
            )

    record = _run(db, work)
    if record is None:
        _unknown(confirmation_id, db)
    assert record is not None
    with _recorded(record):
        if as_json:
            print_json(record_data(record))
        else:
            found = f"failed ({record.error})" if record.error else record.status.value
            console.print(Text(f"{record.id} ({record.chosen}) is {found}"))


def _json_object(text: str) -> dict[str, object]:
    try:
        value = json.loads(text)
    except ValueError as exc:
        fail(f"--result is not JSON: {exc}", code=EXIT_INVALID)
    if not isinstance(value, dict):
        fail("--result must be a JSON object", code=EXIT_INVALID)
    return value


@confirmations.command()
def cleanup(
    db: Db,
    purge: Annotated[
        bool, typer.Option("--purge", help="Also delete closed confirmations past retention.")
    ] = False,
    retention_days: Annotated[
        float, typer.Option(help="With --purge: keep closed ones this many days.", min=0)
    ] = 30.0,
    as_json: AsJson = False,
) -> None:
    """Record the expiry of overdue confirmations; with --purge, delete old closed ones."""

    async def work(registry: ConfirmationRegistry) -> tuple[int, int | None]:
        expired = await registry.cleanup_expired()
        return expired, (await registry.purge() if purge else None)

    expired, purged = _run(db, work, retention=timedelta(days=retention_days))
    if as_json:
        print_json({"expired": expired, "purged": purged})
        return
    console.print(Text(f"expired {expired} overdue confirmation{'' if expired == 1 else 's'}"))
    if purged is not None:
        console.print(
            Text(
                f"purged {purged} closed confirmation{'' if purged == 1 else 's'}"
                f" older than {retention_days:g} days"
            )
        )
