"""A worker runs no bot: importing it loads the action layer, not the engine or server."""

from __future__ import annotations

import json
import subprocess
import sys

ALLOWED = ("soni.errors", "soni.wire", "soni.remote", "soni.actions", "soni.worker")
HEAVY = ("langgraph", "langchain_core", "fastapi", "starlette", "uvicorn", "yaml")


def _under(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def test_importing_the_worker_loads_no_engine_server_or_bot_language() -> None:
    code = "import soni.worker, json, sys; print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    loaded: list[str] = json.loads(done.stdout)

    soni = [m for m in loaded if _under(m, ("soni",))]
    assert "soni.worker" in soni and "soni.remote" in soni
    assert [m for m in soni if m != "soni" and not _under(m, ALLOWED)] == []
    assert [m for m in loaded if _under(m, HEAVY)] == []
