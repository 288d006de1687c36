"""What a running soni server serves: ``GET /actions``, for ``--url`` options."""

from __future__ import annotations

from typing import Annotated, Any

import httpx
import typer

from soni.cli._output import fail

__all__ = ("ServerKey", "served_actions", "where")

ServerKey = Annotated[
    str | None, typer.Option(envvar="SONI_API_KEY", help="Bearer API key for --url.")
]
"""``--api-key``, for the commands that ask a running server (``--url``)."""


def served_actions(url: str, api_key: str | None) -> dict[str, Any]:
    """The server's ``GET /actions``: ``{"global", "local", "remote": {name: [workers]}}``.

    Fails the command (exit 1, one line) when the server cannot be asked.
    """
    if not url.startswith(("http://", "https://")):
        fail(f"--url must be an http:// or https:// address, got {url!r}", code=2)
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    address = f"{url.rstrip('/')}/actions"
    try:
        response = httpx.get(address, headers=headers, timeout=10.0)
    except httpx.HTTPError as exc:
        fail(f"cannot reach {address}: {exc}")
    if response.status_code in (401, 403):
        fail(f"{address} refused the request ({response.status_code}): pass --api-key")
    if response.status_code != 200:
        fail(f"{address} answered {response.status_code}: {response.text[:200]}")
    try:
        found = response.json()
        return {
            "global": list(found["global"]),
            "local": list(found["local"]),
            "remote": {str(k): list(v) for k, v in (found.get("remote") or {}).items()},
        }
    except (ValueError, KeyError, TypeError, AttributeError):
        fail(f"{address} did not answer with soni's list of actions")


def where(served: dict[str, Any], name: str) -> str | None:
    """Where the server runs ``name``: ``local``, ``global``, ``remote (ids)``, or ``None``."""
    if name in served["local"]:
        return "local"
    if name in served["global"]:
        return "global"
    workers = served["remote"].get(name)
    return f"remote ({', '.join(workers)})" if workers else None
