"""Tokens any registry with the deployment's secret can show again: after a restart,
in another worker, in another process; and only there.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest

from soni.confirmations import (
    Choose,
    ConfirmationClosed,
    ConfirmationRegistry,
    MemoryConfirmationStore,
    SqliteConfirmationStore,
    Status,
    format_decision_message,
    parse_decision_message,
)
from soni.confirmations.tokens import derive_token, is_well_formed, made_under

from .conftest import FakeClock, RegistryFactory, register_transfer, transitions

SECRET = b"the deployment's secret, 32 bytes or more"
OTHER_SECRET = b"another deployment's secret, as long"

SQLITE_ONLY = pytest.mark.parametrize("store_kind", ["sqlite"], indirect=True)

Workers = Callable[[bytes], ConfirmationRegistry]


@pytest.fixture
def workers(make_registry: RegistryFactory, store_kind: str, tmp_path: Path) -> Workers:
    """Registries ("workers") on one store — one SQLite file, or one memory store — each
    keyed by the secret it is given."""
    memory = MemoryConfirmationStore() if store_kind == "memory" else None

    def worker(secret: bytes) -> ConfirmationRegistry:
        if memory is not None:
            return make_registry(store=memory, secret=secret)
        return make_registry(path=tmp_path / "shared.db", secret=secret)

    return worker


# -- the same secret: one token everywhere ---------------------------------------------


async def test_a_worker_with_the_secret_shows_the_token_another_issued(workers: Workers) -> None:
    first, second = workers(SECRET), workers(SECRET)
    record, token = await register_transfer(first, key="conv-1:step-1")

    seen = await second.get_by_id(record.id)
    assert seen is not None
    assert second.token_of(seen) == token
    assert second.known_token(record.id) == token


async def test_a_worker_with_the_secret_decides_with_the_token_it_shows(workers: Workers) -> None:
    first, second = workers(SECRET), workers(SECRET)
    record, _ = await register_transfer(first)
    seen = await second.get_by_id(record.id)
    assert seen is not None
    shown = second.token_of(seen)
    assert shown is not None

    decided = await second.decide(shown, "approve", actor="alice")

    assert decided.status is Status.APPROVED
    assert (await first.get_by_id(record.id)) == decided


async def test_reregistering_a_key_on_another_worker_returns_the_same_confirmation(
    workers: Workers,
) -> None:
    first, second = workers(SECRET), workers(SECRET)
    record, token = await register_transfer(first, key="conv-1:step-1")

    again, again_token = await register_transfer(second, key="conv-1:step-1")

    assert (again.id, again_token) == (record.id, token)
    assert transitions(await second.history(record.id)) == [(None, Status.PENDING)]


async def test_a_worker_with_another_secret_shows_no_token_and_supersedes(
    workers: Workers,
) -> None:
    first, stranger = workers(SECRET), workers(OTHER_SECRET)
    record, token = await register_transfer(first, key="conv-1:step-1")
    seen = await stranger.get_by_id(record.id)
    assert seen is not None

    assert stranger.token_of(seen) is None
    assert stranger.known_token(record.id) is None

    new, new_token = await register_transfer(stranger, key="conv-1:step-1")
    assert new.id != record.id and new_token != token
    assert (await first.get(token)).status is Status.SUPERSEDED
    with pytest.raises(ConfirmationClosed):
        await first.decide(token, "approve")
    # The new confirmation is the stranger's: the first worker cannot show it either.
    assert first.token_of(new) is None


async def test_no_token_is_shown_for_a_closed_confirmation(workers: Workers) -> None:
    first, second = workers(SECRET), workers(SECRET)
    _, token = await register_transfer(first)

    decided = await second.decide(token, "skip", actor="alice")

    assert second.token_of(decided) is None
    assert first.token_of(decided) is None


@SQLITE_ONLY
@pytest.mark.parametrize("closed_by", ["decision", "expiry"])
async def test_a_confirmation_closed_by_another_registry_shows_no_token(
    make_registry: RegistryFactory, tmp_path: Path, clock: FakeClock, closed_by: str
) -> None:
    path = tmp_path / "shared.db"
    mine = make_registry(path=path)
    theirs = make_registry(path=path)
    record, token = await register_transfer(mine, ttl=10)
    lasting, lasting_token = await register_transfer(mine, ttl=1000, conversation_id="conv-2")
    assert mine.token_of(record) == token
    if closed_by == "decision":
        await theirs.decide(token, "approve", actor="bob")
    clock.advance(11)
    if closed_by == "expiry":
        assert await theirs.cleanup_expired() == 1

    closed = await mine.get_by_id(record.id)
    assert closed is not None and not closed.is_open
    assert mine.token_of(closed) is None
    still_open = await mine.get_by_id(lasting.id)
    assert still_open is not None
    assert mine.token_of(still_open) == lasting_token


# -- another process ------------------------------------------------------------------

_CHILD = textwrap.dedent(
    """
    import asyncio, sys
    from soni.confirmations import ConfirmationRegistry, SqliteConfirmationStore
    from soni.confirmations.secret import secret_from_env

    async def main(path, confirmation_id):
        registry = ConfirmationRegistry(SqliteConfirmationStore(path), secret=secret_from_env())
        try:
            record = await registry.get_by_id(confirmation_id)
            print(registry.token_of(record))
            print(registry.known_token(confirmation_id))
            again, token = await registry.register(
                conversation_id=record.conversation_id,
                user_id=record.user_id,
                actions=list(record.actions),
                prompt=record.prompt,
                key=record.key,
            )
            print(again.id, token)
        finally:
            await registry.aclose()

    asyncio.run(main(sys.argv[1], sys.argv[2]))
    """
)


def run_child(path: Path, confirmation_id: str, secret: str) -> list[str]:
    """What a fresh interpreter with ``SONI_SECRET=secret`` says about the confirmation."""
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path), confirmation_id],
        env={**os.environ, "SONI_SECRET": secret},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


@pytest.mark.parametrize("same_secret", [True, False], ids=["same-secret", "other-secret"])
@pytest.mark.slow  # a Python process of its own
async def test_another_process_with_the_secret_prints_the_token_this_one_issued(
    tmp_path: Path, same_secret: bool
) -> None:
    path = tmp_path / "state.db"
    secret = "s" * 16 + "-shared-by-both-processes"
    # The real clock: the child has no other.
    parent = ConfirmationRegistry(SqliteConfirmationStore(path), secret=secret.encode())
    try:
        record, token = await register_transfer(parent, key="conv-1:step-1")

        shown, known, again = run_child(
            path, record.id, secret if same_secret else "another secret, of 32 characters"
        )

        if same_secret:
            assert (shown, known, again) == (token, token, f"{record.id} {token}")
            assert (await parent.get(token)).status is Status.PENDING
        else:
            assert (shown, known) == ("None", "None")
            assert again.split()[0] != record.id
            assert (await parent.get(token)).status is Status.SUPERSEDED
    finally:
        await parent.aclose()


# -- what the secret protects -----------------------------------------------------------


async def test_the_token_is_not_derivable_without_the_secret(workers: Workers) -> None:
    record, token = await register_transfer(workers(SECRET))

    assert derive_token(SECRET, record.id) == token
    assert derive_token(OTHER_SECRET, record.id) != token
    neighbour = record.id[:-1] + ("1" if record.id.endswith("0") else "0")
    assert derive_token(SECRET, neighbour) != token  # bound to its id
    assert made_under(SECRET, record.id) and not made_under(OTHER_SECRET, record.id)


@SQLITE_ONLY
async def test_the_database_holds_only_the_tokens_hash(workers: Workers, tmp_path: Path) -> None:
    registry = workers(SECRET)
    record, token = await register_transfer(registry)
    await registry.mark_shown(token)

    with closing(sqlite3.connect(tmp_path / "shared.db")) as db:
        tables = [
            name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")
        ]
        values = [
            str(v) for table in tables for row in db.execute(f"SELECT * FROM {table}") for v in row
        ]
        [(stored_hash,)] = db.execute(
            "SELECT token_hash FROM confirmations WHERE id = ?", (record.id,)
        )

    assert values and not any(token in value for value in values)
    assert stored_hash == hashlib.sha256(token.encode()).hexdigest()


async def test_tokens_are_32_url_safe_characters_the_decision_messages_carry(
    workers: Workers,
) -> None:
    registry = workers(SECRET)
    tokens = {(await register_transfer(registry, conversation_id=f"c{i}"))[1] for i in range(50)}

    assert len(tokens) == 50
    for token in tokens:
        assert len(token) == 32 and is_well_formed(token)
        message = Choose(token, "transfer")
        assert parse_decision_message(format_decision_message(message)) == message


async def test_an_id_made_elsewhere_has_no_known_token(workers: Workers) -> None:
    registry = workers(SECRET)

    assert registry.known_token("rival") is None
    assert registry.known_token("0" * 32) is None


def test_a_secret_shorter_than_32_bytes_is_refused_without_being_shown() -> None:
    with pytest.raises(ValueError, match="at least 32 bytes") as refused:
        ConfirmationRegistry(secret=b"hunter2-hunter2")

    assert "hunter2" not in str(refused.value)


# -- rotation ---------------------------------------------------------------------------


async def test_after_a_rotation_an_old_token_still_decides_but_is_not_shown(
    workers: Workers,
) -> None:
    before = workers(SECRET)
    record, token = await register_transfer(before, key="conv-1:step-1")
    after = workers(OTHER_SECRET)  # the deployment's secret changed; the store did not

    seen = await after.get(token)
    assert after.token_of(seen) is None
    assert after.known_token(record.id) is None

    decided = await after.decide(token, "approve", actor="alice")
    assert decided.status is Status.APPROVED
    assert (await after.begin_execution(token)).should_run
