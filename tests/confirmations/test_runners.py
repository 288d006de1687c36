"""A runner is alive exactly as long as its process: the lock dies with it, however it dies."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from soni.confirmations import Runner, runners_folder

_CHILD = textwrap.dedent(
    """
    import sys
    from soni.confirmations import Runner

    runner = Runner(sys.argv[1])
    print(runner.id, flush=True)
    sys.stdin.readline()  # until told to go, or killed
    """
)


def start_runner_process(folder: Path) -> tuple[subprocess.Popen[str], str]:
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(folder)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    return child, child.stdout.readline().strip()


@pytest.mark.parametrize("ending", ["killed", "exited"])
@pytest.mark.slow  # processes of their own
async def test_a_runner_of_another_process_is_alive_until_that_process_ends(
    tmp_path: Path, ending: str
) -> None:
    folder = tmp_path / "state.runners"
    me = Runner(folder)
    child, other = start_runner_process(folder)
    try:
        assert await me.alive(other)
        assert await me.in_flight(other, "any-run")
        if ending == "killed":
            child.send_signal(signal.SIGKILL)
        else:
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.flush()
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
        child.communicate(timeout=30)  # waits, and closes the pipes

    assert not await me.alive(other)
    assert not await me.in_flight(other, "any-run")
    # The dead runner's lock file is tidied up by whoever found it dead.
    assert sorted(p.name for p in folder.iterdir()) == [f"{me.id}.lock"]
    me.close()
    assert list(folder.iterdir()) == []


async def test_runners_of_this_process_are_known_without_their_files(tmp_path: Path) -> None:
    first, second = Runner(), Runner(tmp_path / "x.runners")

    assert await second.alive(first.id) and await first.alive(second.id)
    first.close()
    assert not await second.alive(first.id)


async def test_own_runs_are_in_flight_only_while_they_run() -> None:
    runner = Runner()
    with runner.running("run-1"):
        assert await runner.in_flight(runner.id, "run-1")
        assert not await runner.in_flight(runner.id, "run-2")
    assert not await runner.in_flight(runner.id, "run-1")


async def test_unknown_or_malformed_runner_ids_are_not_alive(tmp_path: Path) -> None:
    runner = Runner(tmp_path / "r")
    (tmp_path / "r" / "../escape.lock").touch()

    assert not await runner.alive("0" * 24)
    assert not await runner.alive("../escape")
    assert not await runner.in_flight(None, "run-1")  # a claim from before runners were recorded


def test_a_database_keeps_its_runners_beside_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert runners_folder("/data/bot/state.db") == Path("/data/bot/state.runners")
    # Through a link, or relative to another folder: the file's own runners.
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "state.db").touch()
    (tmp_path / "link.db").symlink_to(tmp_path / "data" / "state.db")
    monkeypatch.chdir(tmp_path / "data")
    assert runners_folder(tmp_path / "link.db") == (tmp_path / "data" / "state.runners").resolve()
    assert runners_folder("state.db") == (tmp_path / "data" / "state.runners").resolve()


@pytest.mark.slow  # processes of their own
async def test_many_asking_at_once_all_find_a_dead_runner_dead(tmp_path: Path) -> None:
    folder = tmp_path / "state.runners"
    child, dead = start_runner_process(folder)
    child.kill()
    child.communicate(timeout=30)
    lock = folder / f"{dead}.lock"
    assert lock.exists()
    askers = [Runner(folder) for _ in range(8)]
    # Each asker holds the dead runner's file open, as a probe does, while the
    # others ask: a probe must never pass for the runner's own lock.
    probes = [os.open(lock, os.O_RDWR) for _ in askers]
    try:
        for probe in probes:
            fcntl.flock(probe, fcntl.LOCK_SH | fcntl.LOCK_NB)
        assert [await asker.alive(dead) for asker in askers] == [False] * len(askers)
    finally:
        for probe in probes:
            os.close(probe)
        for asker in askers:
            asker.close()
