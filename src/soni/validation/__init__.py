"""soni 1.0's ``soni.validation`` package, kept so 1.0 handler modules import unchanged."""

from soni.validation.registry import ValidatorRegistry

__all__ = ("ValidatorRegistry",)
