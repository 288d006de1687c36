"""Chat turns over HTTP: soni's server next to bare LangGraph behind FastAPI, and an echo.

Each server runs in its own process (uvicorn, one worker, SQLite checkpointer on a
fresh file); one load generator (this process, one keep-alive socket per user)
drives all three the same way. A virtual user repeats a balance check:
"/check_balance" (the bot asks which account), then "checking" (it looks the
balance up and tells it) — two chat turns per round, each a POST to
/conversations/{id}/messages, each user on its own conversations. Figures: turns
per second and p50/p99 latency at 1, 16 and 64 concurrent users.

Target (issue 6): soni >= 0.8x the turns/s of bare LangGraph behind FastAPI.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from _harness import banner, row

HERE = Path(__file__).resolve().parent
KINDS = ("echo", "bare", "soni")
LABELS = {
    "echo": "FastAPI echo endpoint",
    "bare": "bare LangGraph behind FastAPI",
    "soni": "soni server",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def start(kind: str, folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(HERE.parent / "src")}
    # Run from another folder, with this one after the standard library on the
    # path: bench/http.py must not shadow the standard library's http package.
    launch = f"import sys; sys.path.append({str(HERE)!r}); import _http_apps; _http_apps.main()"
    process = subprocess.Popen(
        [sys.executable, "-c", launch, kind, str(port), str(folder / f"{kind}.db")],
        env=env,
        cwd=folder,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.post(f"{url}/conversations/warm/messages", json={"text": "hi"}, timeout=2)
            return process, url
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"bench/http.py: the {kind} server did not start")


class Connection:
    """One keep-alive HTTP/1.1 connection, as light as a load generator can be.

    httpx's pool costs more per request than the echo server it measures once tens
    of users share it; each virtual user here owns a socket instead.
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer)

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        self.writer.write(
            f"POST {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = dict(line.lower().split(":", 1) for line in lines[1:] if ":" in line)
        length = int(headers["content-length"])
        return status, await self.reader.readexactly(length)

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


async def load(url: str, users: int, seconds: float, tag: str) -> tuple[list[float], float]:
    """Turn latencies and the elapsed time of ``users`` users talking for ``seconds``."""
    latencies: list[float] = []
    host, port = url.removeprefix("http://").split(":")
    connections = [await Connection.open(host, int(port)) for _ in range(users)]
    stop = time.perf_counter() + seconds

    async def user(n: int) -> None:
        connection = connections[n]
        rounds = 0
        while time.perf_counter() < stop:
            conversation = f"{tag}-{n}-{rounds}"
            for text in ("/check_balance", "checking"):
                body = json.dumps({"text": text}).encode()
                begin = time.perf_counter()
                status, answer = await connection.post(
                    f"/conversations/{conversation}/messages", body
                )
                latencies.append(time.perf_counter() - begin)
                if status != 200:
                    raise SystemExit(f"bench/http.py: {status} {answer!r}")
            rounds += 1

    try:
        begin = time.perf_counter()
        await asyncio.gather(*(user(n) for n in range(users)))
        return latencies, time.perf_counter() - begin
    finally:
        for connection in connections:
            await connection.close()


def quantile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=2.0, help="load time per round")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds per figure")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        servers = {kind: start(kind, Path(tmp)) for kind in KINDS}
        try:
            results: dict[tuple[str, int], tuple[float, float, float]] = {}
            for users in (1, 16, 64):
                for kind in KINDS:
                    _, url = servers[kind]
                    await load(url, users, 0.5, f"warm{users}")  # warm-up, not measured
                # Rounds interleaved, so a slow moment of this shared machine falls on
                # every server alike; the median round is reported.
                rounds: dict[str, list[tuple[float, list[float]]]] = {k: [] for k in KINDS}
                for n in range(args.rounds):
                    for kind in KINDS:
                        _, url = servers[kind]
                        latencies, elapsed = await load(url, users, args.seconds, f"r{users}-{n}")
                        rounds[kind].append((len(latencies) / elapsed, latencies))
                for kind in KINDS:
                    rate, latencies = sorted(rounds[kind], key=lambda r: r[0])[args.rounds // 2]
                    results[kind, users] = (
                        rate,
                        statistics.median(latencies) * 1e3,
                        quantile(latencies, 0.99) * 1e3,
                    )
            for users in (1, 16, 64):
                seconds = f"median of {args.rounds} interleaved rounds of {args.seconds:.0f} s"
                banner(f"{users} concurrent user(s), chat turns over HTTP, {seconds}")
                floor_rate, floor_p50, floor_p99 = results["bare", users]
                for kind in KINDS:
                    rate, p50, p99 = results[kind, users]
                    row(f"{LABELS[kind]}, turns/s", rate, "/s", floor_rate, LABELS["bare"])
                    row(f"{LABELS[kind]}, p50", p50, "ms", floor_p50, LABELS["bare"])
                    row(f"{LABELS[kind]}, p99", p99, "ms", floor_p99, LABELS["bare"])
        finally:
            for process, _ in servers.values():
                process.terminate()
            for process, _ in servers.values():
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
