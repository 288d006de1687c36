"""soni: task-oriented chatbots from YAML flows, with a safe action layer on LangGraph."""

from importlib.metadata import PackageNotFoundError, version

from soni.actions import ActionContext, ActionRegistry, ActionSpec, load_actions
from soni.errors import (
    ActionArgumentError,
    ActionError,
    ActionFailed,
    ActionLoadError,
    ActionNotFound,
    ActionRegistrationError,
    ActionTimeout,
    SoniError,
)

try:
    __version__ = version("soni")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

__all__ = (
    "ActionArgumentError",
    "ActionContext",
    "ActionError",
    "ActionFailed",
    "ActionLoadError",
    "ActionNotFound",
    "ActionRegistrationError",
    "ActionRegistry",
    "ActionSpec",
    "ActionTimeout",
    "SoniError",
    "__version__",
    "load_actions",
)
