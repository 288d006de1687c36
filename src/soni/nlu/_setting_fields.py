"""What the understanding engines' settings models share: one base that turns pydantic's
validation error into an :class:`NluSettingsError` naming the ``settings.nlu`` key, and
the value readers their fields use.

A reader raises ``ValueError`` with the message alone; the key comes from where pydantic
found the value (a field's alias when it has one, the name in ``settings.nlu``), so a
message is written once for every field that reads values the same way.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, ValidationError

from soni.actions.validators import as_number
from soni.nlu.errors import NluSettingsError

__all__ = (
    "NluSettingsModel",
    "flag",
    "in_range",
    "number",
    "text",
    "whole",
)


class NluSettingsModel(BaseModel):
    """A frozen settings model read from ``settings.nlu``; other engines' keys ignored.

    Built directly or with :meth:`read`, a bad value raises :class:`NluSettingsError`
    (never pydantic's ``ValidationError``), naming its key.
    """

    model_config = ConfigDict(
        frozen=True, extra="ignore", validate_by_name=True, validate_by_alias=True
    )

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise named(exc, type(self)) from None

    @classmethod
    def read(cls, nlu: Mapping[str, Any]) -> Self:
        """The settings in ``nlu`` (``settings.nlu``'s keys); a key set to ``null`` is
        not set.

        Raises:
            NluSettingsError: the first unusable value, named by its key.
        """
        given = {key: value for key, value in nlu.items() if value is not None}
        try:
            return cls.model_validate(given)
        except ValidationError as exc:
            raise named(exc, cls) from None


_PYDANTIC_MESSAGES = {"missing": "is required"}


def named(exc: ValidationError, model: type[BaseModel]) -> NluSettingsError:
    """The first error of ``exc`` as an :class:`NluSettingsError` naming its key in
    ``settings.nlu`` (a field's alias, however the value was given)."""
    error = exc.errors()[0]
    field = str(error["loc"][0]) if error["loc"] else ""
    info = model.model_fields.get(field)
    key = (info.alias if info is not None and info.alias else field) or "nlu"
    cause = error.get("ctx", {}).get("error")
    if isinstance(cause, NluSettingsError):
        return cause
    if isinstance(cause, ValueError):
        return NluSettingsError(key, str(cause))
    return NluSettingsError(key, _PYDANTIC_MESSAGES.get(error["type"], error["msg"]))


def text(value: Any) -> str:
    """A string, as given."""
    if not isinstance(value, str):
        raise ValueError(f"must be a string, got {type(value).__name__}")
    return value


def flag(value: Any) -> bool:
    """``true``/``false``, or their text."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ValueError(f"must be true or false, got {value!r}")


def number(value: Any) -> float:
    """A number, or its text (``"2.5"``); not a boolean, not NaN."""
    read = as_number(value)
    if read is None or math.isnan(read):
        raise ValueError(f"must be a number, got {value!r}")
    return read


def whole(value: Any) -> int:
    """A whole number, or its text (``"3"``); ``2.0`` reads as 2."""
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"must be a whole number, got {value!r}")
    return value


def in_range(low: float, high: float, *, above: bool = False) -> Callable[[float], float]:
    """A check that a number lies in ``[low, high]`` (``(low, high]`` when ``above``)."""

    def check(value: float) -> float:
        too_low = value <= low if above else value < low
        if too_low or value > high:
            floor = f"more than {low:g}" if above else f"at least {low:g}"
            raise ValueError(f"must be {floor} and at most {high:g}, got {value!r}")
        return value

    return check
