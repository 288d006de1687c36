"""The deployment's secret: from SONI_SECRET, or a file beside the database made once."""

from __future__ import annotations

import errno
import logging
import os
import stat
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest

from soni.confirmations.secret import (
    MIN_SECRET_LENGTH,
    SecretError,
    load_or_create_secret,
    parse_secret,
    secret_file_for,
    secret_from_env,
)
from soni.errors import SoniError

GOOD = "correct-horse-battery-staple-0123456789"
SHORT = "hunter2-hunter2"  # 15 characters


# -- parsing --------------------------------------------------------------------------


def test_a_secret_is_its_text_as_utf8_without_the_white_space_around_it() -> None:
    assert parse_secret(f"  {GOOD}\n") == GOOD.encode()
    assert parse_secret("é" * MIN_SECRET_LENGTH) == ("é" * MIN_SECRET_LENGTH).encode("utf-8")


@pytest.mark.parametrize("text", ["", "   ", "\n"])
def test_an_empty_secret_is_refused(text: str) -> None:
    with pytest.raises(SecretError, match="SONI_SECRET is empty"):
        parse_secret(text)


@pytest.mark.parametrize("text", [SHORT, "x" * (MIN_SECRET_LENGTH - 1), f" {SHORT} "])
def test_a_short_secret_is_refused_without_being_shown(text: str) -> None:
    with pytest.raises(SecretError) as refused:
        parse_secret(text)

    message = str(refused.value)
    assert message.startswith("SONI_SECRET is too short")
    assert "\n" not in message
    assert text.strip() not in message


def test_a_secret_error_is_a_value_error_and_a_soni_error() -> None:
    with pytest.raises(SecretError) as refused:
        parse_secret(SHORT)

    assert isinstance(refused.value, ValueError) and isinstance(refused.value, SoniError)


def test_secret_from_env_reads_soni_secret() -> None:
    assert secret_from_env({}) is None
    assert secret_from_env({"SONI_SECRET": GOOD}) == GOOD.encode()


@pytest.mark.parametrize("value", ["", SHORT])
def test_a_soni_secret_that_is_set_but_unusable_is_an_error(value: str) -> None:
    # Not "no secret": a worker would quietly show tokens no other worker can.
    with pytest.raises(SecretError, match="SONI_SECRET") as refused:
        secret_from_env({"SONI_SECRET": value})

    assert value == "" or value not in str(refused.value)


# -- the file beside a database -----------------------------------------------------------


def test_the_secret_file_sits_beside_the_database(tmp_path: Path) -> None:
    assert secret_file_for(tmp_path / "state.db") == tmp_path / "state.secret"
    assert secret_file_for(tmp_path / "banking") == tmp_path / "banking.secret"


def test_a_database_reached_through_a_link_has_the_secret_of_its_file(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "data")

    assert secret_file_for(tmp_path / "link" / "state.db") == tmp_path / "data" / "state.secret"


@contextmanager
def umask(mask: int) -> Iterator[None]:
    previous = os.umask(mask)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.mark.parametrize("mask", [0o000, 0o022, 0o077])
def test_a_missing_secret_file_is_created_for_its_owner_alone(tmp_path: Path, mask: int) -> None:
    path = tmp_path / "nested" / "state.secret"

    with umask(mask):
        secret = load_or_create_secret(path)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(secret) >= MIN_SECRET_LENGTH
    assert path.read_bytes().strip() == secret
    assert load_or_create_secret(path) == secret
    assert sorted(p.name for p in path.parent.iterdir()) == ["state.secret"]  # no temporary left


def test_an_existing_secret_file_is_used_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "state.secret"
    path.write_text(GOOD + "\n")
    path.chmod(0o600)

    assert load_or_create_secret(path) == GOOD.encode()
    assert path.read_text() == GOOD + "\n"


def test_a_secret_file_others_can_read_is_used_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "state.secret"
    path.write_text(GOOD)
    path.chmod(0o644)

    with caplog.at_level(logging.WARNING, logger="soni.confirmations"):
        assert load_or_create_secret(path) == GOOD.encode()

    assert "chmod 600" in caplog.text and GOOD not in caplog.text


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "is empty"),
        (b"\n", "is empty"),
        (SHORT.encode(), "is too short"),
        (b"\xff" * 40, "not UTF-8"),
    ],
    ids=["empty", "blank", "short", "binary"],
)
def test_a_corrupt_secret_file_is_a_clear_error_and_left_alone(
    tmp_path: Path, content: bytes, problem: str
) -> None:
    path = tmp_path / "state.secret"
    path.write_bytes(content)

    with pytest.raises(SecretError, match=problem) as refused:
        load_or_create_secret(path)

    assert str(path) in str(refused.value)
    assert SHORT not in str(refused.value)
    assert path.read_bytes() == content  # never replaced: tokens were made with it


def test_a_secret_file_that_cannot_be_read_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "state.secret"
    path.mkdir()  # unreadable as a file, even for root

    with pytest.raises(SecretError, match="cannot read the secret file"):
        load_or_create_secret(path)


def test_a_secret_file_under_a_file_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")

    with pytest.raises(SecretError, match=r"secret file .*not-a-folder/state\.secret"):
        load_or_create_secret(blocker / "state.secret")


def test_a_file_system_without_links_is_a_clear_error_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*_: object) -> None:
        raise PermissionError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", refuse)

    with pytest.raises(
        SecretError, match=r"cannot create the secret file .*: Operation not permitted"
    ):
        load_or_create_secret(tmp_path / "state.secret")

    assert list(tmp_path.iterdir()) == []


# -- creating it at once ------------------------------------------------------------------


def test_eight_threads_creating_the_file_at_once_get_one_secret(tmp_path: Path) -> None:
    path = tmp_path / "state.secret"
    start = threading.Barrier(8)

    def create() -> bytes:
        start.wait(timeout=30)
        return load_or_create_secret(path)

    with ThreadPoolExecutor(8) as pool:
        secrets = list(pool.map(lambda _: create(), range(8)))

    assert len(set(secrets)) == 1
    assert path.read_bytes().strip() == secrets[0]
    assert [p.name for p in tmp_path.iterdir()] == ["state.secret"]


_CREATOR = textwrap.dedent(
    """
    import sys
    from soni.confirmations.secret import load_or_create_secret

    print("ready", flush=True)
    sys.stdin.readline()  # until every process is ready
    print(load_or_create_secret(sys.argv[1]).hex(), flush=True)
    """
)


@pytest.mark.slow  # processes of their own
def test_four_processes_creating_the_file_at_once_get_one_secret(tmp_path: Path) -> None:
    path = tmp_path / "state.secret"
    children = [
        subprocess.Popen(
            [sys.executable, "-c", _CREATOR, str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    try:
        for child in children:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "ready"
        for child in children:
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.flush()
        outputs = [child.communicate(timeout=120)[0].strip() for child in children]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.communicate(timeout=30)

    assert all(child.returncode == 0 for child in children)
    assert len(set(outputs)) == 1
    assert bytes.fromhex(outputs[0]) == path.read_bytes().strip()
    assert [p.name for p in tmp_path.iterdir()] == ["state.secret"]
