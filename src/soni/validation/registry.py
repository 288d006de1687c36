"""soni 1.0's validator registry, kept so 1.0 handler modules import unchanged.

``@ValidatorRegistry.register("iban")`` registers into soni's default validator
registry, exactly as ``@soni.validator("iban")`` does; new code should use that.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from soni.actions.validators import default_registry, validator

__all__ = ("ValidatorRegistry",)

F = TypeVar("F", bound=Callable[..., Any])


class ValidatorRegistry:
    """The 1.0 spelling: class-level methods over soni's default validator registry."""

    @staticmethod
    def register(name: str) -> Callable[[F], F]:
        """Decorator: register a validator under ``name`` (same as ``soni.validator``)."""
        return validator(name)

    @staticmethod
    def is_registered(name: str) -> bool:
        return name in default_registry

    @staticmethod
    def list_validators() -> list[str]:
        return default_registry.names()
