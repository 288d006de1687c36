"""A program that only talks to a server imports the client, not the bot machinery."""

from __future__ import annotations

import json
import subprocess
import sys

# What the client may bring in of soni: the package root (kept light), the errors,
# the wire format it shares with the server, and itself.
ALLOWED = ("soni", "soni.errors", "soni.wire", "soni.client")
# What a client-only program must never pay for.
HEAVY = ("langgraph", "langchain_core", "fastapi", "starlette", "uvicorn", "yaml", "sqlite3")


def _loaded_after(statement: str) -> list[str]:
    code = f"{statement}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    loaded: list[str] = json.loads(done.stdout)
    return loaded


def _is_under(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def test_importing_the_client_loads_no_engine_server_or_bot_language() -> None:
    loaded = _loaded_after("import soni.client")

    soni = [m for m in loaded if _is_under(m, ("soni",))]
    assert "soni.client" in soni
    assert [m for m in soni if m not in ALLOWED and not m.startswith("soni.client.")] == []
    assert [m for m in loaded if _is_under(m, HEAVY)] == []


def test_the_package_root_alone_loads_only_the_errors() -> None:
    loaded = _loaded_after("import soni")

    assert [m for m in loaded if _is_under(m, ("soni",))] == ["soni", "soni.errors"]
    assert [m for m in loaded if _is_under(m, (*HEAVY, "pydantic"))] == []
