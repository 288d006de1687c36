"""The errors of the bot language, for bot authors: ``ConfigError`` names the file,
line and column; the compilers' errors name the position in the text.
"""

from __future__ import annotations

from collections.abc import Sequence

from soni.errors import SoniError, format_location

__all__ = (
    "ConfigError",
    "ConfigErrors",
    "ExpressionError",
    "PatternError",
    "SlotValueError",
    "TemplateError",
)


def _excerpt(text: str, limit: int = 80) -> str:
    """``text`` quoted for a message, shortened when long (the full text stays an attribute)."""
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


class ExpressionError(SoniError, ValueError):
    """An expression is malformed, or an operation in it failed while it was evaluated.

    Attributes:
        text: The expression's source.
        position: 0-based offset in ``text`` of the offending token or operator.
        message: What is wrong, without the location.
    """

    def __init__(self, text: str, position: int, message: str) -> None:
        self.text = text
        self.position = position
        self.message = message
        super().__init__(f"{message} at position {position} in expression {_excerpt(text)}")


class TemplateError(SoniError, ValueError):
    """A message template has a malformed placeholder or an unescaped brace.

    Attributes:
        text: The template's source.
        position: 0-based offset in ``text`` of the offending brace.
        message: What is wrong, without the location.
    """

    def __init__(self, text: str, position: int, message: str) -> None:
        self.text = text
        self.position = position
        self.message = message
        super().__init__(f"{message} at position {position} in template {_excerpt(text)}")


class PatternError(SoniError, ValueError):
    """A ``branch`` case pattern is malformed (``>`` without a number, ``=x``, ...).

    Attributes:
        pattern: The pattern as written.
        message: What is wrong.
    """

    def __init__(self, pattern: str, message: str) -> None:
        self.pattern = pattern
        self.message = message
        super().__init__(f"invalid case pattern {pattern!r}: {message}")


class ConfigError(SoniError):
    """A mistake in a bot file, for the bot author: where it is and what is wrong.

    ``str()`` is ``path:line:col: message`` (the compiler convention, so editors and
    terminals can jump to it); the line and column are left out when unknown.

    Attributes:
        path: The file (or, for a problem with the bot as a whole, the path given to
            the loader).
        line: 1-based line, or ``None``.
        column: 1-based column, or ``None``.
        message: What is wrong, starting with the element it concerns
            (``flows.transfer.steps[2]: ...``).
    """

    def __init__(self, path: str, line: int | None, column: int | None, message: str) -> None:
        self.path = path
        self.line = line
        self.column = column
        self.message = message
        super().__init__(f"{self.location}: {message}")

    @property
    def location(self) -> str:
        """``path:line:col``, ``path:line`` or ``path``, as far as known."""
        return format_location(self.path, self.line, self.column)

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.path, self.line, self.column, self.message))


class ConfigErrors(SoniError):
    """Every mistake found in a bot, raised together so the author can fix them at once.

    Attributes:
        errors: The individual errors, ordered by file, line and column.
    """

    def __init__(self, errors: Sequence[ConfigError]) -> None:
        self.errors = tuple(errors)
        count = len(self.errors)
        header = f"{count} error{'' if count == 1 else 's'} in the bot configuration:"
        super().__init__("\n".join([header, *(f"  {error}" for error in self.errors)]))

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.errors,))


class SlotValueError(SoniError, ValueError):
    """A value cannot be read as the slot's type (``"abc"`` for an integer slot).

    Attributes:
        slot_kind: The slot's normalised type (``integer``, ``date``, ...).
        value: The rejected value, as given.
        message: Why, in words fit to show the bot author or log.
    """

    def __init__(self, slot_kind: str, value: object, message: str) -> None:
        self.slot_kind = slot_kind
        self.value = value
        self.message = message
        super().__init__(message)

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.slot_kind, self.value, self.message))
