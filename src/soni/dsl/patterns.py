"""Case patterns of ``branch`` steps: ``{pattern: step_id}`` picks where to jump.

Forms, with optional whitespace after the operator (``> 100``):

* ``>N``, ``>=N``, ``<N``, ``<=N`` -- ``N`` a number. The value is compared numerically;
  a value that is neither a number nor a numeric string (see
  :func:`~soni.dsl.expressions.numeric_value`) does not match.
* ``==x``, ``!=x`` -- ``x`` a literal, optionally quoted (``=="New York"``). When both
  sides are numeric they compare as numbers (``==100`` matches ``100.0`` and ``"100"``);
  otherwise as text, ignoring case, the value formatted as a message would show it
  (``==true`` matches ``True``). A missing value (``None``) equals nothing.
* ``true`` / ``false`` -- a boolean, or the text true/false/yes/no in any case.
* ``default`` -- always matches; :func:`select_case` tries it last.
* anything else is a bare literal, the same as ``==literal``.
"""

from __future__ import annotations

import functools
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from soni.dsl.errors import PatternError
from soni.dsl.expressions import numeric_value
from soni.dsl.templates import format_value

__all__ = ("Pattern", "compile_pattern", "select_case")

_OPERATOR = re.compile(r"\s*(>=|<=|==|!=|>|<)?\s*(.*?)\s*", re.DOTALL)
_ORDERINGS: Final[dict[str, Callable[[Any, Any], bool]]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}
_TRUTHS: Final = {"true": True, "yes": True, "false": False, "no": False}


@dataclass(frozen=True, slots=True)
class Pattern:
    """A compiled case pattern; build one with :func:`compile_pattern`.

    Attributes:
        source: The pattern as written.
        operator: ``">"``, ``">="``, ``"<"``, ``"<="``, ``"=="``, ``"!="``, ``"bool"``
            or ``"default"``.
        operand: The number, the literal text (quotes removed) or the boolean compared
            against; ``None`` for ``default``.
        is_default: Whether this is the ``default`` case.
    """

    source: str
    operator: str
    operand: int | float | str | bool | None
    is_default: bool = False
    # The literal's numeric value for ==/!=, so it is parsed once, not on every match.
    _number: int | float | None = field(default=None, repr=False, compare=False)

    def matches(self, value: Any) -> bool:
        """Tell whether ``value`` satisfies the pattern. Never raises.

        Args:
            value: The slot or expression value the ``branch`` step looks at.

        Returns:
            ``True`` when the case applies.
        """
        op = self.operator
        if op == "default":
            return True
        if op == "bool":
            return _truth(value) is self.operand
        if op in _ORDERINGS:
            number = numeric_value(value)
            return number is not None and _ORDERINGS[op](number, self.operand)
        return self._equals(value) is (op == "==")

    def _equals(self, value: Any) -> bool:
        if value is None:
            return False
        if self._number is not None:
            number = numeric_value(value)
            if number is not None:
                return number == self._number
        return format_value(value).casefold() == str(self.operand).casefold()


@functools.lru_cache(maxsize=4096)
def compile_pattern(pattern: str) -> Pattern:
    """Compile a case pattern (cached per source).

    Args:
        pattern: The pattern as written in the ``cases`` mapping.

    Returns:
        The compiled pattern.

    Raises:
        PatternError: The pattern is empty, an ordering operator is not followed by a
            number, ``==`` / ``!=`` has no operand, or it starts with ``=`` or ``!``
            without being ``==`` / ``!=``.
    """
    match = _OPERATOR.fullmatch(pattern)
    assert match is not None  # the regex matches any text
    op, operand = match.group(1), match.group(2)
    if op in _ORDERINGS:
        number = numeric_value(operand)
        if number is None:
            found = f", found {operand!r}" if operand else ""
            raise PatternError(pattern, f"expected a number after {op!r}{found}")
        return Pattern(pattern, op, number)
    if op is None:
        word = operand.lower()
        if not operand:
            raise PatternError(pattern, "empty pattern")
        if word == "default":
            return Pattern(pattern, "default", None, is_default=True)
        if word in ("true", "false"):
            return Pattern(pattern, "bool", word == "true")
        if operand[0] in "=!":
            raise PatternError(pattern, f"unknown operator in {operand!r} (use '==' or '!=')")
        op = "=="
    elif not operand:
        raise PatternError(pattern, f"expected a value after {op!r}")
    literal = _unquote(operand)
    return Pattern(pattern, op, literal, _number=numeric_value(literal))


def select_case(cases: Mapping[str, str], value: Any) -> str | None:
    """Pick the target of the first case that matches ``value``.

    Cases are tried in mapping order (the order they are written in); ``default`` is
    tried only after every other case, wherever it is written.

    Args:
        cases: Patterns mapped to targets (step ids).
        value: The value the ``branch`` step looks at.

    Returns:
        The first matching non-default case's target, else the ``default`` target, else
        ``None``.

    Raises:
        PatternError: A pattern is malformed.
    """
    fallback: str | None = None
    for pattern, target in cases.items():
        compiled = compile_pattern(pattern)
        if compiled.is_default:
            if fallback is None:
                fallback = target
        elif compiled.matches(value):
            return target
    return fallback


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def _truth(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return _TRUTHS.get(value.strip().lower())
    return None
