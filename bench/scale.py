# ruff: noqa: E402
"""soni on PostgreSQL: chat turns/s with 1, 2 and 4 workers, and one turn next to bare LangGraph.

Everything runs on throwaway databases this script creates on the PostgreSQL server
(``--postgres``, default ``SONI_BENCH_POSTGRES`` or the local server as
``postgres``) and drops at the end. Without a reachable server it prints one line
saying why and stops.

(a) HTTP chat turns per second of ``soni serve examples/banking --workers N`` for
    N = 1, 2, 4, next to one worker measured in the same run: one load generator
    (this process, one keep-alive socket per user, ``--users`` at once) repeats
    the balance check of bench/http.py ("/check_balance", then "checking": two
    turns, each a POST), each user on its own conversations. The users'
    connections are spread evenly over the workers, as a load balancer would
    (the kernel, handing connections opened at once to one listening socket,
    may give them all to one worker: shown too). Each round starts every server
    afresh, in turn, and the median round is reported. Beside each figure: how
    the workers shared the turns (the ``X-Soni-Worker`` header), the CPU time per
    turn of the soni workers, of the PostgreSQL backends serving them and of the
    load generator (from /proc), and how much of the machine other processes
    took meanwhile (this machine is shared).
    Target (issue 13): 2 workers >= 1.6x one worker on a 2-core machine.
(b) One collect turn of the banking bot on PostgreSQL (paused on "Who should
    receive the money?", answered, asks "How much do you want to send?") next to
    the same turn in bare LangGraph with ``AsyncPostgresSaver`` on a psycopg pool
    opened as soni opens its own — the graph of bench/turns.py's floor — and the
    confirmation round trip of bench/turns.py (c), interleaved turn by turn.
    Target (issue 13): <= 1.3x. Then where soni's turns on PostgreSQL spend their
    time, each storage call timed: the turn's lock, checkpoint reads and writes,
    the confirmation store, the action journal, the notices to the other workers.
(c) What limits one worker: ``--users`` conversations at once in one process, with
    LangGraph's ``AsyncPostgresSaver`` as shipped — one asyncio lock per saver
    around every call, pool or not (langgraph#7259), so a process's checkpoint
    reads and writes, commits included, run one at a time — and with a semaphore
    of the pool's size in its place, in interleaved rounds.

Run: ``make bench`` or ``python bench/scale.py [--users 32] [--rounds 3]``.
"""

from __future__ import annotations

# This folder holds http.py (the HTTP benchmark): run as a script, it would shadow
# the standard library's http package. Keep the folder, but after the library.
import sys  # isort: skip
from pathlib import Path  # isort: skip

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE] + [str(_HERE)]

import argparse
import asyncio
import contextlib
import json
import os
import re
import secrets
import signal
import statistics
import subprocess
import tempfile
import threading
import time
from collections import Counter, deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from langgraph.types import Command
from psycopg_pool import AsyncConnectionPool

from _harness import banner, row
from _postgres import shown, throwaway_databases, unreachable
from soni import Bot
from turns import BANKING, IBAN, FloorState, check, floor_graph, interleaved, report

SERVER = os.environ.get("SONI_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
SECRET = secrets.token_urlsafe(32)
"""``SONI_SECRET`` of every worker of a run: each derives the same tokens."""
START_TIMEOUT = 120.0

Timed = Callable[[], Awaitable[object]]


# -- the PostgreSQL server and its throwaway databases -----------------------------------


def unavailable(server: str) -> str | None:
    """Why the PostgreSQL server cannot be used, or ``None``."""
    reason = unreachable(server)
    return None if reason is None else f"no PostgreSQL at {shown(server)}: {reason}"


# -- CPU time from /proc ----------------------------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds(pids: set[int]) -> float:
    """User + system CPU seconds the processes have used so far (those still there)."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / _TICK


def machine_busy() -> tuple[float, float]:
    """(busy, all) CPU seconds of the whole machine so far, every process's (/proc/stat)."""
    with contextlib.suppress(OSError):
        ticks = [int(n) for n in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = ticks[3] + ticks[4]  # idle, iowait
        return (sum(ticks) - idle) / _TICK, sum(ticks) / _TICK
    return 0.0, 0.0


def postgres_pids(database: str) -> set[int]:
    """The PostgreSQL backends serving ``database`` (each shows it in its process title)."""
    found = set()
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        with contextlib.suppress(OSError):
            title = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if title.startswith("postgres:") and f" {database} " in title:
                found.add(int(cmdline.parent.name))
    return found


# -- (a) soni serve --workers N under HTTP load ------------------------------------------

_LISTENING = re.compile(r"running on http://127\.0\.0\.1:(\d+)")


class Served:
    """``soni serve BANKING --workers N --db URL`` until ``stop``; ready when every worker is."""

    def __init__(self, workers: int, db: str, folder: Path) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SONI_")}
        command = [
            sys.executable, "-m", "soni", "serve", str(BANKING), "--host", "127.0.0.1",
            "--port", "0", "--db", db, "--workers", str(workers), "--log-level", "info",
        ]  # fmt: skip
        self.workers, self.db = workers, db
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env={**env, "SONI_SECRET": SECRET},
            cwd=folder,
        )
        self.log: deque[str] = deque(maxlen=100)
        self.port = 0
        self._started = 0
        self._ready = threading.Event()
        threading.Thread(target=self._drain, daemon=True).start()
        if not self._ready.wait(START_TIMEOUT) or self.process.poll() is not None:
            self.stop()
            raise SystemExit(f"bench/scale.py: soni serve --workers {workers} did not start:\n"
                             + "\n".join(self.log))  # fmt: skip
        self.url = f"http://127.0.0.1:{self.port}"

    def _drain(self) -> None:
        assert self.process.stderr is not None
        with self.process.stderr:
            for line in self.process.stderr:
                self.log.append(line.rstrip())
                if not self.port and (found := _LISTENING.search(line)):
                    self.port = int(found[1])
                if "Application startup complete" in line:
                    self._started += 1
                if self._started == self.workers and self.port:
                    self._ready.set()
        self._ready.set()  # ended: whoever waits sees it

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


class Connection:
    """One keep-alive HTTP/1.1 connection (as bench/http.py's), telling which worker answered."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    async def post(self, path: str, body: bytes) -> tuple[int, str, bytes]:
        """Status, the answering worker's pid (``X-Soni-Worker``, "" if none) and body."""
        self.writer.write(
            f"POST {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = dict(line.lower().split(":", 1) for line in lines[1:] if ":" in line)
        answer = await self.reader.readexactly(int(headers["content-length"]))
        return int(lines[0].split()[1]), headers.get("x-soni-worker", "").strip(), answer

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(OSError):
            await self.writer.wait_closed()


@dataclass
class Load:
    """One round of load on one server."""

    turns: int
    seconds: float
    latencies: list[float]
    workers: Counter[str]
    soni_cpu: float
    """CPU seconds of the server's processes during the round."""
    postgres_cpu: float
    client_cpu: float
    """CPU seconds of this process, the load generator."""
    machine: float
    """How busy the whole machine was (every process, this benchmark's and others'), 0 to 1."""

    @property
    def rate(self) -> float:
        return self.turns / self.seconds

    def spread(self) -> str:
        shares = sorted(self.workers.values(), reverse=True)
        return "/".join(f"{100 * n / max(self.turns, 1):.0f}" for n in shares) + " %"


async def load(served: Served, users: int, seconds: float, tag: str) -> Load:
    """``users`` users doing balance checks for ``seconds``, spread evenly over the workers."""
    connections, pids = await spread_connections(served, users)
    latencies: list[float] = []
    workers: Counter[str] = Counter()
    pids.add(served.process.pid)
    stop = time.perf_counter() + seconds

    async def user(n: int) -> None:
        rounds = 0
        while time.perf_counter() < stop:
            for text in ("/check_balance", "checking"):
                begin = time.perf_counter()
                status, worker, answer = await connections[n].post(
                    f"/conversations/{tag}-{n}-{rounds}/messages",
                    json.dumps({"text": text}).encode(),
                )
                latencies.append(time.perf_counter() - begin)
                if status != 200:
                    raise SystemExit(f"bench/scale.py: {status} {answer!r}")
                workers[worker or str(served.process.pid)] += 1
            rounds += 1

    try:
        # The backends come from their titles: the pools have opened their connections
        # by now, and keep them.
        postgres = postgres_pids(urlsplit(served.db).path.lstrip("/"))
        soni_before, postgres_before = cpu_seconds(pids), cpu_seconds(postgres)
        busy_before, all_before = machine_busy()
        own_before = time.process_time()
        begin = time.perf_counter()
        await asyncio.gather(*(user(n) for n in range(users)))
        elapsed = time.perf_counter() - begin
        client_cpu = time.process_time() - own_before
        soni_cpu = cpu_seconds(pids) - soni_before
        postgres_cpu = cpu_seconds(postgres) - postgres_before
        busy_after, all_after = machine_busy()
        machine = (busy_after - busy_before) / max(all_after - all_before, 1e-9)
    finally:
        for connection in connections:
            await connection.close()
    return Load(
        len(latencies), elapsed, latencies, workers, soni_cpu, postgres_cpu, client_cpu, machine
    )


async def _answering(connection: Connection, probe: str) -> int:
    """The pid of the worker serving ``connection`` (a first message tells)."""
    _, worker, _ = await connection.post(f"/conversations/{probe}/messages", b'{"text": "hi"}')
    return int(worker) if worker else 0


async def spread_connections(served: Served, users: int) -> tuple[list[Connection], set[int]]:
    """``users`` keep-alive connections, as evenly spread over the workers as a balancer would.

    With one listening socket shared by the workers, the kernel hands each new
    connection to whichever worker accepts first, and one that wakes up accepts all
    that are waiting: opened at once, the connections may all land on one worker
    (``kernel_spread`` shows how they did). A connection to a worker that has its
    share already is closed and opened again, until every worker has its share.
    """
    share = -(-users // served.workers)
    kept: list[Connection] = []
    per_worker: Counter[int] = Counter()
    attempts = 0
    while len(kept) < users:
        attempts += 1
        connection = await Connection.open(served.port)
        worker = await _answering(connection, f"spread-{attempts}")
        # Past a generous number of tries, take what comes rather than loop on.
        if per_worker[worker] < share or attempts > users * 50:
            per_worker[worker] += 1
            kept.append(connection)
        else:
            await connection.close()
    return kept, set(per_worker) - {0}


async def kernel_spread(served: Served, users: int) -> str:
    """How ``users`` connections opened at once were spread by the kernel over the workers."""
    connections = await asyncio.gather(*(Connection.open(served.port) for _ in range(users)))
    try:
        workers = Counter([await _answering(c, f"kernel-{n}") for n, c in enumerate(connections)])
    finally:
        for connection in connections:
            await connection.close()
    counts = sorted(workers.values(), reverse=True) + [0] * (served.workers - len(workers))
    return "/".join(str(n) for n in counts)


def quantile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def workers_section(args: argparse.Namespace, db: str, folder: Path) -> None:
    counts = sorted(set(args.workers))
    rounds: dict[int, list[Load]] = {n: [] for n in counts}
    kernel: dict[int, list[str]] = {n: [] for n in counts}
    for number in range(args.rounds):
        # Every configuration once per round, in turn: a slow moment of this shared
        # machine falls on one round of each, and the median round is reported.
        for n in counts:
            served = Served(n, db, folder)
            try:
                kernel[n].append(await kernel_spread(served, args.users))
                await load(served, args.users, args.warm, f"w{number}-{n}-warm")
                rounds[n].append(await load(served, args.users, args.seconds, f"r{number}-{n}"))
            finally:
                served.stop()
    median = {n: sorted(rounds[n], key=lambda r: r.rate)[len(rounds[n]) // 2] for n in counts}
    base = median[counts[0]]
    base_label = f"{counts[0]} worker{'s' if counts[0] > 1 else ''}"
    banner(
        f"(a) HTTP chat turns on PostgreSQL, soni serve --workers N, {args.users} users,"
        f" median of {args.rounds} rounds of {args.seconds:g} s"
    )
    for n in counts:
        run = median[n]
        label = f"{n} worker{'s' if n > 1 else ''}"
        row(f"{label}, turns/s", run.rate, "/s", base.rate, base_label)
        p50, p99 = statistics.median(run.latencies) * 1e3, quantile(run.latencies, 0.99) * 1e3
        row(f"{label}, p50", p50, "ms", statistics.median(base.latencies) * 1e3, base_label)
        row(f"{label}, p99", p99, "ms", quantile(base.latencies, 0.99) * 1e3, base_label)
        row("  CPU per turn, soni workers", 1e3 * run.soni_cpu / run.turns, "ms")
        row("  CPU per turn, its PostgreSQL backends", 1e3 * run.postgres_cpu / run.turns, "ms")
        row("  CPU per turn, the load generator", 1e3 * run.client_cpu / run.turns, "ms")
        busy = 100 * (run.soni_cpu + run.postgres_cpu) / (run.seconds * (os.cpu_count() or 1))
        row(f"  soni and its backends, of {os.cpu_count()} cores", busy, "%")
        cores = run.seconds * (os.cpu_count() or 1)
        others = run.machine - (run.soni_cpu + run.postgres_cpu + run.client_cpu) / cores
        row("  other processes on the machine, of its cores", 100 * max(others, 0.0), "%")
        print(f"   {'  turns per worker':<44} {run.spread():>14}")
        if n > 1:
            opened = ", ".join(kernel[n])
            print(f"   {'  connections opened at once, per worker':<44} {opened:>14} (each round)")


# -- (b) one turn on PostgreSQL: soni next to bare LangGraph ------------------------------


async def open_floor(url: str) -> tuple[Any, AsyncConnectionPool[Any]]:
    """The bare graph on ``AsyncPostgresSaver`` over a pool opened as soni opens its own."""
    pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
        url,
        min_size=1,
        max_size=10,
        kwargs={"autocommit": True, "prepare_threshold": 0},
        open=False,
    )
    await pool.open(wait=True, timeout=10)
    saver = AsyncPostgresSaver(pool)
    await saver.setup()
    return floor_graph().compile(checkpointer=saver), pool


class Spans:
    """Time spent in each part of soni's storage, and how many calls, over a pass."""

    def __init__(self) -> None:
        self.seconds: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()

    def add(self, part: str, seconds: float) -> None:
        self.seconds[part] += seconds
        self.calls[part] += 1

    def clear(self) -> None:
        self.seconds.clear()
        self.calls.clear()


_STORE_CALLS = ("insert", "get", "find_by_token_hash", "find_open_by_key", "transition", "query")
_JOURNAL_CALLS = ("generation", "next_generation", "claim", "reclaim", "mark_unknown", "finish")


def time_storage(bot: Bot, spans: Spans) -> None:
    """Wrap the storage calls of ``bot`` in timers (for the breakdown passes only)."""
    storage, saver = bot.storage, bot.storage.checkpointer
    turn = storage.turn

    @contextlib.asynccontextmanager
    async def timed_turn(conversation_id: str, wait: float | None = None) -> AsyncIterator[None]:
        begin = time.perf_counter()
        async with turn(conversation_id, wait):
            spans.add("turn lock", time.perf_counter() - begin)
            yield

    def timed(owner: Any, name: str, part: str) -> None:
        call = getattr(owner, name)

        async def run(*args: Any, **kwargs: Any) -> Any:
            begin = time.perf_counter()
            try:
                return await call(*args, **kwargs)
            finally:
                spans.add(part, time.perf_counter() - begin)

        setattr(owner, name, run)

    storage.turn = timed_turn  # type: ignore[method-assign]
    timed(saver, "aget_tuple", "checkpoint reads")
    timed(saver, "aput", "checkpoint writes")
    for name in _STORE_CALLS:
        timed(storage.confirmations, name, "confirmation store")
    for name in _JOURNAL_CALLS:
        timed(storage.journal, name, "action journal")
    timed(storage, "publish", "notices")


def breakdown(label: str, whole: list[float], spans: Spans, unit: str) -> None:
    """Where ``whole`` (seconds, one per ``unit``: a turn, a round trip) went, part by part."""
    count = len(whole)
    median = statistics.median(whole)
    row(f"{label}, median", median * 1e3, "ms")
    for part, seconds in spans.seconds.most_common():
        calls = spans.calls[part] / count
        text = f"  {part}, {calls:.0f} per {unit}"
        row(text, seconds / count * 1e3, "ms", median * 1e3, "its median")
    rest = statistics.fmean(whole) - sum(spans.seconds.values()) / count
    row("  the rest: the graph, in Python", rest * 1e3, "ms", median * 1e3, "its median")


class Turns:
    """The turns (b) compares: soni's and the bare graph's, on their own databases."""

    def __init__(self, bot: Bot, floor: Any) -> None:
        self.bot, self.floor = bot, floor

    @staticmethod
    def _config(cid: str) -> RunnableConfig:
        return {"configurable": {"thread_id": cid}}

    async def floor_start(self, cid: str, slots: dict[str, Any]) -> None:
        initial: FloorState = {"slots": slots, "replies": [], "waiting": None, "turn": 1}
        await self.floor.ainvoke(initial, self._config(cid), durability="exit")

    async def floor_turn(self, cid: str, text: str) -> dict[str, Any]:
        resume = Command(resume={"text": text, "user_id": None})
        result: dict[str, Any] = await self.floor.ainvoke(
            resume, self._config(cid), durability="exit"
        )
        return result

    def soni_collect(self, cid: str) -> Timed:
        async def call() -> None:
            result = await self.bot.handle(cid, "Alice")
            check(result.texts == ["How much do you want to send?"], str(result.texts))

        return call

    def floor_collect(self, cid: str) -> Timed:
        async def call() -> None:
            texts = [r["text"] for r in (await self.floor_turn(cid, "Alice"))["replies"]]
            check(texts == ["How much do you want to send?"], str(texts))

        return call

    def soni_trip(self, cid: str) -> Timed:
        async def call() -> None:
            asked = await self.bot.handle(cid, IBAN)
            done = await self.bot.handle(cid, "yes")
            check(asked.status == "awaiting_confirmation", str(asked.texts))
            check(done.texts[0].startswith("Done: 50 EUR"), str(done.texts))

        return call

    def floor_trip(self, cid: str) -> Timed:
        async def call() -> None:
            asked = await self.floor_turn(cid, IBAN)
            done = await self.floor_turn(cid, "yes")
            check(asked["replies"][-1]["kind"] == "confirmation", str(asked))
            check(done["replies"][0]["text"].startswith("Done: 50"), str(done))

        return call

    async def paused_on_beneficiary(self, tag: str, count: int) -> None:
        for i in range(count):
            await self.bot.handle(f"{tag}-soni-{i}", "/transfer_funds")
            await self.floor_start(f"{tag}-floor-{i}", {})

    async def paused_on_iban(self, tag: str, count: int) -> None:
        slots = {"beneficiary": "Alice", "amount": 50.0}
        for i in range(count):
            asked = await self.bot.handle(f"{tag}-soni-{i}", f"/transfer_funds{json.dumps(slots)}")
            check(asked.texts == ["What is their IBAN?"], str(asked.texts))
            await self.floor_start(f"{tag}-floor-{i}", slots)


async def _timed_alone(calls: list[Timed]) -> list[float]:
    whole = []
    for call in calls:
        begin = time.perf_counter()
        await call()
        whole.append(time.perf_counter() - begin)
    return whole


async def turn_section(args: argparse.Namespace, soni_db: str, floor_db: str) -> None:
    bot = await Bot.load(BANKING, db=soni_db, secret=SECRET)
    floor, pool = await open_floor(floor_db)
    turns = Turns(bot, floor)
    warm = min(20, args.turns)
    spans = Spans()
    try:
        n = args.turns + warm
        await turns.paused_on_beneficiary("a", n)
        times = await interleaved(
            {
                "soni": [turns.soni_collect(f"a-soni-{i}") for i in range(n)],
                "floor": [turns.floor_collect(f"a-floor-{i}") for i in range(n)],
            }
        )
        collect = {k: v[warm:] for k, v in times.items()}
        n = args.trips + warm
        await turns.paused_on_iban("c", n)
        times = await interleaved(
            {
                "soni": [turns.soni_trip(f"c-soni-{i}") for i in range(n)],
                "floor": [turns.floor_trip(f"c-floor-{i}") for i in range(n)],
            }
        )
        trips = {k: v[warm:] for k, v in times.items()}

        # The breakdowns: the same turns again, soni alone, its storage calls timed.
        time_storage(bot, spans)
        await turns.paused_on_beneficiary("s", args.turns)
        spans.clear()
        collect_alone = await _timed_alone(
            [turns.soni_collect(f"s-soni-{i}") for i in range(args.turns)]
        )
        banner(
            f"(b) turns on PostgreSQL: {args.turns} collect turns, {args.trips} round trips,"
            " fresh resumes, interleaved with the floor's, ms"
        )
        floor_label = "bare LangGraph, AsyncPostgresSaver"
        report("soni collect turn", collect["soni"], collect["floor"], floor_label)
        report("soni confirmation round trip", trips["soni"], trips["floor"], floor_label)
        breakdown("collect turn, storage timed", collect_alone, spans, "turn")
        await turns.paused_on_iban("t", args.trips)
        spans.clear()
        trips_alone = await _timed_alone(
            [turns.soni_trip(f"t-soni-{i}") for i in range(args.trips)]
        )
        breakdown("round trip, storage timed", trips_alone, spans, "trip")
    finally:
        await bot.aclose()
        await pool.close()


async def lock_section(args: argparse.Namespace, db: str) -> None:
    """(c) What limits one worker: LangGraph's saver lock, against a semaphore in its place."""
    bot = await Bot.load(BANKING, db=db, secret=SECRET)
    saver = bot.storage.checkpointer
    shipped = saver.lock
    rates: dict[str, list[float]] = {"shipped": [], "semaphore": []}

    async def user(tag: str, stop: float) -> int:
        rounds = done = 0
        while time.perf_counter() < stop:
            for text in ("/check_balance", "checking"):
                await bot.handle(f"{tag}-{rounds}", text)
                done += 1
            rounds += 1
        return done

    try:
        for number in range(args.rounds * 2 + 1):
            for name in rates:
                # A semaphore as large as soni's pool: each checkpoint call has a
                # connection of its own, which is all the lock protects with a pool.
                saver.lock = shipped if name == "shipped" else asyncio.Semaphore(10)
                stop = time.perf_counter() + args.seconds / 2
                begin = time.perf_counter()
                tags = [f"{name}-{number}-{n}" for n in range(args.users)]
                done = sum(await asyncio.gather(*(user(tag, stop) for tag in tags)))
                if number:  # the first round warms up
                    rates[name].append(done / (time.perf_counter() - begin))
    finally:
        saver.lock = shipped
        await bot.aclose()
    banner(
        f"(c) what limits one worker: {args.users} conversations at once in one process,"
        f" turns/s, median of {len(rates['shipped'])} interleaved rounds"
    )
    shipped_rate = statistics.median(rates["shipped"])
    row("LangGraph's saver lock, as shipped", shipped_rate, "/s")
    row(
        "a semaphore of the pool's size in its place",
        statistics.median(rates["semaphore"]),
        "/s",
        shipped_rate,
        "the lock",
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--postgres", default=SERVER, help="a database to create others from")
    parser.add_argument(
        "--workers",
        type=lambda text: [int(n) for n in text.split(",")],
        default=[1, 2, 4],
        help="worker counts, the first one the floor (1,2,4)",
    )
    parser.add_argument("--users", type=int, default=32, help="concurrent users (a)")
    parser.add_argument("--seconds", type=float, default=3.0, help="load time per round (a)")
    parser.add_argument("--warm", type=float, default=1.0, help="warm-up load per server (a)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per worker count (a)")
    parser.add_argument("--turns", type=int, default=300, help="measured collect turns (b)")
    parser.add_argument("--trips", type=int, default=100, help="confirmation round trips (b)")
    args = parser.parse_args()

    reason = unavailable(args.postgres)
    if reason is not None:
        print(f"bench/scale.py: skipped: {reason}")
        return
    started = time.perf_counter()
    with (
        throwaway_databases(args.postgres, "http", "soni", "floor", "lock") as db,
        tempfile.TemporaryDirectory() as tmp,
    ):
        await workers_section(args, db["http"], Path(tmp))
        await turn_section(args, db["soni"], db["floor"])
        await lock_section(args, db["lock"])
    print(f"\n   (whole run {time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    asyncio.run(main())
