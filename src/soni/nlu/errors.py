"""The errors of understanding: a structured message that cannot be read, and an
understanding setting that cannot be used.
"""

from __future__ import annotations

from soni.errors import SoniError

__all__ = (
    "NluSettingsError",
    "StructuredMessageError",
)


class StructuredMessageError(SoniError, ValueError):
    """A message that starts like a structured command (``/...``) is malformed."""


class NluSettingsError(SoniError, ValueError):
    """A ``settings.nlu`` value the chosen understanding engine cannot use.

    ``str()`` names the setting first (``settings.nlu.timeout: ...``), as a
    ``ConfigError`` message does; the loader, which knows the file, can wrap it in one.

    Attributes:
        key: The setting under ``settings.nlu`` (``timeout``, ``model``, ...).
        message: What is wrong, without the setting's name.
    """

    def __init__(self, key: str, message: str) -> None:
        self.key = key
        self.message = message
        super().__init__(f"settings.nlu.{key}: {message}")

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.key, self.message))
