"""The action layer's registry: registering, finding, loading and running handlers."""

from soni.actions.context import ActionContext
from soni.actions.invoke import normalize_result
from soni.actions.loading import load_actions
from soni.actions.registry import ActionRegistry
from soni.actions.spec import ActionSpec, Handler

__all__ = (
    "ActionContext",
    "ActionRegistry",
    "ActionSpec",
    "Handler",
    "load_actions",
    "normalize_result",
)
