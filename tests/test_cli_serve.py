"""`soni serve` starts a real server for a bot folder; a broken bot is one red line."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.server  # soni serve in a process of its own

ROOT = Path(__file__).resolve().parent.parent
SONI = [sys.executable, "-c", "from soni.cli import main; main()"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_serve_answers_chat_and_the_openapi_page(tmp_path: Path) -> None:
    port = free_port()
    server = subprocess.Popen(
        [*SONI, "serve", str(ROOT / "examples" / "banking"), "--port", str(port),
         "--db", str(tmp_path / "state.db"), "--log-level", "warning"],
        cwd=tmp_path,
        env={**os.environ, "SONI_API_KEYS": ""},
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            assert server.poll() is None, "the server exited"
            time.sleep(0.1)
        reply = httpx.post(f"{url}/conversations/cli-1/messages", json={"text": "/check_balance"})
        assert reply.status_code == 200
        assert reply.json()["replies"][0]["text"] == "Which account: checking or savings?"
        assert httpx.get(f"{url}/docs").status_code == 200
    finally:
        server.terminate()
        server.wait(timeout=15)
    assert (tmp_path / "state.db").exists()


def test_a_bot_that_does_not_load_is_one_red_line(tmp_path: Path) -> None:
    broken = "flows:\n  f:\n    steps:\n      - {step: a, type: colect}\n"
    (tmp_path / "bot.yaml").write_text(broken)
    done = subprocess.run(
        [*SONI, "serve", str(tmp_path), "--port", str(free_port())],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip

    assert done.returncode == 1
    assert "unknown step type 'colect'" in done.stderr
    assert "Traceback" not in done.stderr


def test_an_action_without_a_handler_is_served_waiting_for_a_worker(tmp_path: Path) -> None:
    flow = "flows:\n  f:\n    steps:\n      - {step: a, type: action, call: send_money}\n"
    (tmp_path / "bot.yaml").write_text(flow)
    port = free_port()
    server = subprocess.Popen(
        [*SONI, "serve", str(tmp_path), "--port", str(port), "--db", str(tmp_path / "s.db")],
        stderr=subprocess.PIPE, text=True, cwd=tmp_path, env={**os.environ, "SONI_API_KEYS": ""},
    )  # fmt: skip
    try:
        assert server.stderr is not None
        for line in server.stderr:  # the start-up log, line by line, until it says so
            if "send_money" in line:
                assert "runs when an action worker announces it" in line
                break
        else:
            raise AssertionError("the server never named the action")
    finally:
        server.terminate()
        server.communicate(timeout=15)  # reads stderr to its end, and closes it


def test_a_bad_soni_variable_is_one_red_line_naming_it(tmp_path: Path) -> None:
    done = subprocess.run(
        [*SONI, "serve", str(ROOT / "examples" / "banking"), "--port", str(free_port())],
        capture_output=True, text=True, timeout=60, check=False, cwd=tmp_path,
        env={**os.environ, "SONI_MAX_BODY_BYTES": "lots", "SONI_API_KEYS": ""},
    )  # fmt: skip

    assert done.returncode == 1
    assert done.stderr.startswith("error: SONI_MAX_BODY_BYTES: ")
    assert "(got 'lots')" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_bad_api_keys_variable_is_named_without_echoing_the_keys(tmp_path: Path) -> None:
    done = subprocess.run(
        [*SONI, "serve", str(ROOT / "examples" / "banking"), "--port", str(free_port())],
        capture_output=True, text=True, timeout=60, check=False, cwd=tmp_path,
        env={**os.environ, "SONI_API_KEYS": "k1=alice,s3cret-without-a-user"},
    )  # fmt: skip

    assert done.returncode == 1
    assert done.stderr == (
        "error: SONI_API_KEYS: Value error, API key entry 2 is not of the form key=user\n"
    )
    assert "Traceback" not in done.stderr
