"""The reliability bot's handlers: each execution is recorded before it finishes.

A handler appends one JSON line (action, idempotency key, conversation, pid) to the
file named by ``SONI_RELIABILITY_EXECUTIONS`` and fsyncs it — the side effect, on
disk before anything else happens — then takes a random time before it returns,
between the two numbers of ``SONI_RELIABILITY_WINDOW`` (seconds, "0.02-0.06" by
default). A SIGKILL of the server during that time lands between the side effect
and the recorded result, the window an at-most-once promise is about.
"""

from __future__ import annotations

import json
import os
import random
import time

from soni import ActionContext, ActionRegistry


def record_execution(action: str, ctx: ActionContext) -> None:
    """Append this execution to the executions file, durably, then dawdle."""
    path = os.environ["SONI_RELIABILITY_EXECUTIONS"]
    line = json.dumps(
        {
            "action": action,
            "key": ctx.idempotency_key,
            "conversation": ctx.conversation_id,
            "pid": os.getpid(),
        }
    )
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (line + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    # The window between the side effect and the result soni records: a kill
    # lands in it as often as the tests aim at it.
    low, _, high = os.environ.get("SONI_RELIABILITY_WINDOW", "0.02-0.06").partition("-")
    time.sleep(random.uniform(float(low), float(high or low)))


@ActionRegistry.register("pay")
def pay(amount: float, ctx: ActionContext) -> dict[str, str]:
    record_execution("pay", ctx)
    return {"receipt": f"R-{ctx.idempotency_key[-6:]}"}


@ActionRegistry.register("note")
def note(ctx: ActionContext) -> dict[str, str]:
    record_execution("note", ctx)
    return {"entry": f"E-{ctx.idempotency_key[-6:]}"}
