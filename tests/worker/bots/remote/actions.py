"""The end-to-end suite's handlers, run by ``soni worker`` processes only.

Every run first appends one JSON line (action, idempotency key, conversation, pid)
to the file named by ``SONI_E2E_EXECUTIONS`` — the side effect, on disk before
anything else — in the form ``tests/reliability/_executions.py`` reads. ``hold``
then tells the test it started, over a TCP connection to ``SONI_E2E_SIGNALS``
(``127.0.0.1:PORT``, the test listening), and blocks until the test writes ``go``
there: the test decides when it finishes, or kills its worker meanwhile.
"""

from __future__ import annotations

import json
import os
import socket
import threading

from soni import ActionContext, ActionRegistry


def record_execution(action: str, ctx: ActionContext) -> None:
    """Append this run to the executions file, durably."""
    line = json.dumps(
        {
            "action": action,
            "key": ctx.idempotency_key,
            "conversation": ctx.conversation_id,
            "pid": os.getpid(),
        }
    )
    fd = os.open(os.environ["SONI_E2E_EXECUTIONS"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (line + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)


@ActionRegistry.register("pay")
def pay(amount: float, ctx: ActionContext) -> dict[str, str]:
    record_execution("pay", ctx)
    return {"reference": f"TX-{ctx.idempotency_key[-8:]}-{os.getpid()}"}


@ActionRegistry.register("hold")
def hold(amount: float, ctx: ActionContext) -> dict[str, str]:
    record_execution("hold", ctx)
    host, _, port = os.environ["SONI_E2E_SIGNALS"].rpartition(":")
    with socket.create_connection((host, int(port)), timeout=60) as conn:
        started = {"key": ctx.idempotency_key, "pid": os.getpid()}
        conn.sendall((json.dumps(started) + "\n").encode())
        answer = conn.makefile().readline().strip()
    if answer != "go":
        raise RuntimeError(f"the test never let it go (got {answer!r})")
    return {"reference": f"TX-{ctx.idempotency_key[-8:]}-{os.getpid()}"}


@ActionRegistry.register("sync_where")
def sync_where(ctx: ActionContext) -> dict[str, str]:
    record_execution("sync_where", ctx)
    return {"where": f"pid {os.getpid()}, thread {threading.current_thread().name}"}


@ActionRegistry.register("async_where")
async def async_where(ctx: ActionContext) -> dict[str, str]:
    record_execution("async_where", ctx)
    assert ctx.session is not None, "run in a worker, a handler has a session"
    for done in (50, 100):
        await ctx.session.send({"type": "event", "event": "progress", "data": {"done": done}})
    return {"where": f"pid {os.getpid()}, thread {threading.current_thread().name}"}
