"""What a worker tells the server about its actions (``announce``, docs/workers.md)."""

from __future__ import annotations

import inspect
from typing import Any

from soni.actions import ActionRegistry, ActionSpec
from soni.wire import ActionOffer, Announcement

__all__ = ("announcement", "describe", "describe_actions")


def _description(spec: ActionSpec) -> str | None:
    """The one given at registration, else the docstring's first line (as ``soni actions
    list`` shows it)."""
    if spec.description:
        return spec.description
    doc = inspect.getdoc(spec.handler)
    return doc.strip().splitlines()[0] if doc and doc.strip() else None


def describe(spec: ActionSpec) -> ActionOffer:
    """One entry of ``announce``'s ``actions``."""
    return ActionOffer(
        name=spec.name,
        mode=spec.mode,
        params=spec.params,
        required=spec.required,
        takes_ctx=spec.ctx_param is not None,
        idempotent=spec.idempotent,
        reconcile=spec.reconcile is not None,
        description=_description(spec),
    )


def describe_actions(registry: ActionRegistry) -> list[ActionOffer]:
    """Every action of ``registry`` (its local ones over the global ones), by name."""
    listed = registry.list_actions()
    names = sorted({*listed["global"], *listed["local"]})
    specs = (registry.get_spec(name) for name in names)
    return [describe(spec) for spec in specs if spec is not None]


def announcement(worker: str, concurrency: int, registry: ActionRegistry) -> dict[str, Any]:
    """``announce``'s arguments, as sent: the model both ends of the protocol read."""
    offers = tuple(describe_actions(registry))
    model = Announcement(worker=worker, concurrency=concurrency, actions=offers)
    return model.model_dump(mode="json")
