"""The action layer: registering, finding, loading and running handlers, and the slot
validators registered from Python beside them."""

from soni.actions.context import ActionContext, ActionSession
from soni.actions.invoke import normalize_result, time_left
from soni.actions.loading import load_actions
from soni.actions.registry import ActionRegistry
from soni.actions.spec import ActionSpec, Handler
from soni.actions.validators import (
    ValidatorRegistry,
    ValidatorSpec,
    default_registry,
    default_validators,
    validator,
)

__all__ = (
    "ActionContext",
    "ActionRegistry",
    "ActionSession",
    "ActionSpec",
    "Handler",
    "ValidatorRegistry",
    "ValidatorSpec",
    "default_registry",
    "default_validators",
    "load_actions",
    "normalize_result",
    "time_left",
    "validator",
)
