"""Handlers that record each run's side effect in a file, and can die right after it.

``SONI_TEST_EFFECTS`` names the file (one line per run: action and idempotency key,
flushed to disk before the handler goes on). ``SONI_TEST_CRASH`` names an action
whose run kills its own process (SIGKILL) just after the side effect: the outcome
is lost exactly where a crash hurts most; ``SONI_TEST_CRASH_BEFORE`` names one whose
run dies before its side effect. ``SONI_TEST_RECONCILE=unsure`` makes the reconcile
check fail to tell.
"""

import os
import signal
from pathlib import Path

from soni import ActionContext, ActionRegistry


def _effect(action: str, ctx: ActionContext) -> dict[str, str]:
    if os.environ.get("SONI_TEST_CRASH_BEFORE") == action:
        os.kill(os.getpid(), signal.SIGKILL)
    with open(os.environ["SONI_TEST_EFFECTS"], "a", encoding="utf-8") as effects:
        effects.write(f"{action} {ctx.idempotency_key}\n")
        effects.flush()
        os.fsync(effects.fileno())
    if os.environ.get("SONI_TEST_CRASH") == action:
        os.kill(os.getpid(), signal.SIGKILL)
    return {"order_id": f"O-{ctx.idempotency_key[-6:]}"}


def _done(action: str, ctx: ActionContext) -> dict[str, str] | None:
    if os.environ.get("SONI_TEST_RECONCILE") == "unsure":
        raise ConnectionError("the order service does not answer")
    path = Path(os.environ["SONI_TEST_EFFECTS"])
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    if f"{action} {ctx.idempotency_key}" in lines:
        return {"order_id": f"O-{ctx.idempotency_key[-6:]}"}
    return None


@ActionRegistry.register("place_order")
def place_order(ctx: ActionContext) -> dict[str, str]:
    return _effect("place_order", ctx)


def find_checked(ctx: ActionContext) -> dict[str, str] | None:
    return _done("place_checked", ctx)


@ActionRegistry.register("place_checked", reconcile=find_checked)
def place_checked(ctx: ActionContext) -> dict[str, str]:
    return _effect("place_checked", ctx)


@ActionRegistry.register("place_again", idempotent=True)
def place_again(ctx: ActionContext) -> dict[str, str]:
    return _effect("place_again", ctx)


@ActionRegistry.register("count_stock")
def count_stock(ctx: ActionContext) -> dict[str, int]:
    _effect("count_stock", ctx)
    return {"stock": 7}


@ActionRegistry.register("read_stock", idempotent=True)
def read_stock(ctx: ActionContext) -> dict[str, int]:
    _effect("read_stock", ctx)
    return {"stock": 7}
