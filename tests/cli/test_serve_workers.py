"""`soni serve --workers N`: real worker processes on one port and one PostgreSQL database.

Started for real as subprocesses on a free 127.0.0.1 port; every wait is bounded
and waits on what the server logs or answers, never on the clock alone.
"""

from __future__ import annotations

import os
import queue
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner, Result

from soni.actions import ActionSpec
from soni.cli import app

ROOT = Path(__file__).resolve().parents[2]
BANKING = ROOT / "examples" / "banking"
SONI = [sys.executable, "-c", "from soni.cli import main; main()"]
SECRET = "a-test-secret-of-at-least-32-characters"
WAIT = 60.0  # seconds: a worker loads the bot and opens its pools in a few

runner = CliRunner()


def serve(*args: str, env: dict[str, str | None] | None = None) -> Result:
    unset: dict[str, str | None] = {"SONI_DB": None, "SONI_SECRET": None}
    return runner.invoke(app, ["serve", str(BANKING), *args], env={**unset, **(env or {})})


def one_error_line(result: Result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    return lines[0]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def ended(pid: int, timeout: float = 10.0) -> bool:
    """Whether process ``pid`` has ended, or ends within ``timeout`` seconds.

    A pidfd becomes readable when the process ends, child of ours or not (a
    zombie left to an init that does not reap counts as ended: it runs nothing).
    """
    try:
        descriptor = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        readable, _, _ = select.select([descriptor], [], [], timeout)
    finally:
        os.close(descriptor)
    return bool(readable)


def descendants(pid: int) -> set[int]:
    """Every process under ``pid`` (Linux: read from /proc)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        parents[int(stat.parent.name)] = int(fields[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier}
        found |= frontier
    return found


class Served:
    """``soni serve --workers N`` as a subprocess, its log read line by line as it comes."""

    def __init__(self, bot: Path, db: str, workers: int, tmp_path: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [*SONI, "serve", str(bot), "--workers", str(workers), "--db", db,
             "--port", str(self.port), "--log-level", "info"],
            cwd=tmp_path,
            env={**os.environ, "SONI_SECRET": SECRET, "SONI_API_KEYS": ""},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        self.lines: list[str] = []
        self._new: queue.Queue[str | None] = queue.Queue()
        # Always read: a full pipe would block the server's logging.
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self._new.put(line.rstrip("\n"))
        self._new.put(None)

    def expect(self, pattern: str) -> re.Match[str]:
        """The next log line matching ``pattern`` (a regular expression)."""
        deadline = time.monotonic() + WAIT
        while True:
            left = deadline - time.monotonic()
            assert left > 0, f"no log line matching {pattern!r}:\n" + "\n".join(self.lines)
            try:
                line = self._new.get(timeout=left)
            except queue.Empty:
                continue
            assert line is not None, "the server exited:\n" + "\n".join(self.lines)
            self.lines.append(line)
            match = re.search(pattern, line)
            if match:
                return match

    def started_workers(self, count: int) -> set[int]:
        """The pids of the next ``count`` workers to start, once each finished starting."""
        pids: set[int] = set()
        complete = 0
        while complete < count or len(pids) < count:
            match = self.expect(r"Started server process \[(\d+)\]|Application startup complete")
            if match[1]:
                pids.add(int(match[1]))
            else:
                complete += 1
        return pids

    def answering(self, wanted: set[int]) -> set[int]:
        """Ask /health on new connections until each worker in ``wanted`` answered once."""
        seen: set[int] = set()
        deadline = time.monotonic() + WAIT
        while not wanted <= seen:
            assert time.monotonic() < deadline, f"only {seen} of {wanted} answered"
            answer = httpx.get(f"{self.url}/health", timeout=10)
            assert answer.status_code == 200
            seen.add(int(answer.headers["X-Soni-Worker"]))
        return seen

    def stop(self) -> int:
        """SIGTERM, as systemd and Ctrl-C stop it; the exit status."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=WAIT)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=WAIT)
        self._reader.join(timeout=WAIT)
        assert self.process.stderr is not None
        self.process.stderr.close()


@pytest.fixture
def served() -> Iterator[list[Served]]:
    """Servers a test starts, killed at its end if it failed before stopping them."""
    started: list[Served] = []
    yield started
    for each in started:
        each.close()


# -- refused before anything starts -----------------------------------------------------


def test_several_workers_on_sqlite_or_memory_are_refused(
    handlers: Mapping[str, ActionSpec], tmp_path: Path
) -> None:
    state = tmp_path / "state.db"
    default = BANKING / ".soni" / "banking.db"  # its settings.persistence, in its folder

    on_file = serve("--workers", "2", "--db", str(state))
    on_memory = serve("--workers", "2", "--db", ":memory:")
    on_default = serve("--workers", "3")

    for refused in (on_file, on_memory, on_default):
        assert refused.exit_code == 2, refused.output
    assert one_error_line(on_file) == (
        "error: several workers need PostgreSQL: --db postgresql://…"
        f" (the SQLite file {state} serves one process)"
    )
    assert one_error_line(on_memory) == (
        "error: several workers need PostgreSQL: --db postgresql://… (memory serves one process)"
    )
    assert one_error_line(on_default) == (
        "error: several workers need PostgreSQL: --db postgresql://…"
        f" (the SQLite file {default} serves one process)"
    )
    assert not state.exists()


def test_several_workers_without_a_secret_are_refused() -> None:
    # Refused before connecting: the database need not even exist.
    url = "postgresql://soni:s3cret@db.invalid/soni"

    refused = serve("--workers", "2", "--db", url)
    empty = serve("--workers", "2", env={"SONI_DB": url, "SONI_SECRET": "  "})
    short = serve("--workers", "2", env={"SONI_DB": url, "SONI_SECRET": "s3cret"})

    for each in (refused, empty, short):
        assert each.exit_code == 2
        assert "s3cret" not in each.output
    hint = "(python -c 'import secrets; print(secrets.token_urlsafe(32))' makes one)"
    assert one_error_line(refused) == (
        "error: several workers need SONI_SECRET: every worker must derive the same"
        f" confirmation tokens {hint}"
    )
    assert one_error_line(empty) == (
        f"error: SONI_SECRET is empty: a secret needs at least 32 characters {hint}"
    )
    assert one_error_line(short) == (
        "error: SONI_SECRET is too short: 6 characters, a secret needs at least 32 " + hint
    )


def test_an_unreachable_database_is_one_line_before_any_worker_starts() -> None:
    url = "postgresql://soni:s3cret@127.0.0.1:1/soni"

    refused = serve("--workers", "2", "--db", url, env={"SONI_SECRET": SECRET})

    assert refused.exit_code == 1
    assert one_error_line(refused).startswith(
        "error: cannot reach the PostgreSQL database postgresql://soni@127.0.0.1:1/soni: "
    )
    assert "s3cret" not in refused.output


def test_workers_must_be_at_least_one() -> None:
    refused = serve("--workers", "0")

    assert refused.exit_code == 2
    assert "Invalid value for '--workers'" in refused.output


# -- served for real --------------------------------------------------------------------


def test_two_workers_answer_on_one_port_share_state_and_stop_on_sigterm(
    served: list[Served], postgres_database: str, tmp_path: Path
) -> None:
    server = Served(BANKING, postgres_database, 2, tmp_path)
    served.append(server)
    workers = server.started_workers(2)
    everyone = descendants(server.process.pid)
    assert workers <= everyone

    assert server.answering(workers) == workers
    # A conversation begun on one worker goes on on whichever answers next.
    url = f"{server.url}/conversations/c1"
    first = httpx.post(f"{url}/messages", json={"text": "send 50 euros to Bob"}, timeout=30)
    assert first.json()["replies"][0]["text"] == "What is their IBAN?"
    other = None
    deadline = time.monotonic() + WAIT
    while other is None or other.headers["X-Soni-Worker"] == first.headers["X-Soni-Worker"]:
        assert time.monotonic() < deadline, "the other worker never answered"
        other = httpx.get(url, timeout=30)
        assert other.status_code == 200, other.text
    assert other.json()["active_flow"] == "transfer_funds"

    assert server.stop() == 0
    assert [pid for pid in everyone if not ended(pid)] == []
    server.expect(r"received SIGTERM: stopping 2 workers")


def test_a_killed_worker_is_reported_and_replaced(
    served: list[Served], postgres_database: str, tmp_path: Path
) -> None:
    server = Served(BANKING, postgres_database, 2, tmp_path)
    served.append(server)
    workers = server.started_workers(2)
    victim = min(workers)

    os.kill(victim, signal.SIGKILL)

    server.expect(rf"ERROR: +worker \d \[{victim}\] died \(killed by SIGKILL\); starting another")
    (replacement,) = server.started_workers(1)
    assert server.answering({replacement}) >= {replacement}
    everyone = descendants(server.process.pid)
    assert server.stop() == 0
    assert [pid for pid in everyone | workers | {replacement} if not ended(pid)] == []


def test_workers_that_cannot_start_stop_the_server_with_exit_status_1(
    served: list[Served], postgres_database: str, tmp_path: Path
) -> None:
    bot = Path(shutil.copytree(BANKING, tmp_path / "bot", ignore=shutil.ignore_patterns(".soni")))
    # Loads in `soni serve` itself (which checks the bot first), not in a worker.
    handlers = bot / "actions.py"
    handlers.write_text(
        "import multiprocessing\n"
        "if multiprocessing.parent_process() is not None:\n"
        "    raise RuntimeError('the payment gateway is down')\n" + handlers.read_text()
    )
    server = Served(bot, postgres_database, 2, tmp_path)
    served.append(server)

    assert server.process.wait(timeout=WAIT) == 1
    server.expect(r"the payment gateway is down")
    server.expect(r"ERROR: +worker \d \[\d+\] could not start \(its error is above\)")
