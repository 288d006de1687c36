"""Handlers soni may run again (``idempotent=True``) or ask (``reconcile=``) after a crash.

They record their executions as the ledger bot's handlers do (its ``actions.py``,
loaded here by path: the pay/note handlers come along, unused).
"""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

from soni import ActionContext, ActionRegistry

_LEDGER = Path(__file__).resolve().parents[1] / "ledger" / "actions.py"
_spec = importlib.util.spec_from_file_location("_reliability_ledger_actions", _LEDGER)
assert _spec is not None and _spec.loader is not None
_ledger = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_ledger)
record_execution = _ledger.record_execution


def _receipt(ctx: ActionContext) -> dict[str, str]:
    return {"receipt": f"R-{ctx.idempotency_key[-6:]}"}


@ActionRegistry.register("pay_again", idempotent=True)
def pay_again(amount: float, ctx: ActionContext) -> dict[str, str]:
    record_execution("pay_again", ctx)
    return _receipt(ctx)


def payment_made(ctx: ActionContext) -> dict[str, str] | None:
    """Whether ``pay_checked`` ran under this key: the executions file is the ledger."""
    path = Path(os.environ["SONI_RELIABILITY_EXECUTIONS"])
    lines = path.read_text().splitlines() if path.exists() else []
    runs = [json.loads(line) for line in lines if line.strip()]
    found = any(r["action"] == "pay_checked" and r["key"] == ctx.idempotency_key for r in runs)
    return _receipt(ctx) if found else None


@ActionRegistry.register("pay_checked", reconcile=payment_made)
def pay_checked(amount: float, ctx: ActionContext) -> dict[str, str]:
    record_execution("pay_checked", ctx)
    return _receipt(ctx)


@ActionRegistry.register("pay_routed")
def pay_routed(amount: float, ctx: ActionContext) -> dict[str, str]:
    record_execution("pay_routed", ctx)
    return _receipt(ctx)


@ActionRegistry.register("note_again", idempotent=True)
def note_again(ctx: ActionContext) -> dict[str, str]:
    record_execution("note_again", ctx)
    return {"entry": f"E-{ctx.idempotency_key[-6:]}"}
