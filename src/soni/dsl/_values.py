"""The evaluation side of the expression language: value rules and closures.

:mod:`soni.dsl.expressions` documents the rules (equality, ordering, ``in``,
arithmetic) and compiles the source; the builders at the end of this module make the
closures a compiled expression calls. A rule that refuses its operands raises a private
problem, which the closure reports as an :class:`~soni.dsl.errors.ExpressionError` naming the
operator's position.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping
from typing import Any, Final, NamedTuple

from soni.dsl.errors import ExpressionError

_MAX_INT_BITS: Final = 4096
_MAX_TEXT: Final = 100_000

_NUMERIC = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def numeric_value(value: object) -> int | float | None:
    """Return the number ``value`` is or spells, else ``None``.

    Numbers other than booleans come back unchanged; text that is a plain decimal number
    once surrounding whitespace is trimmed (``"100"``, ``"-2.5"``, ``"1e3"``) is parsed;
    anything else (``"1,000"``, ``"nan"``, ``"ten"``, ``True``) is not a number.
    Stricter than :func:`soni.actions.validators.as_number` on purpose: a comparison
    that reads text as a number must not read ``"nan"`` or ``"1_000"``, and a
    large integer stays exact.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        text = value.strip()
        if _NUMERIC.fullmatch(text):
            try:
                return int(text)
            except ValueError:  # a fraction or exponent, or too many digits for int()
                return float(text)
    return None


class _Problem(Exception):
    """Raised by the value rules; the closure that called one adds text and position."""


_KINDS: Final = {bool: "a boolean", int: "a number", float: "a number", str: "text"}


def _kind(value: object) -> str:
    """Name the kind of ``value`` for a message: ``null``, ``a number``, ``text``, ..."""
    if value is None:
        return "null"
    if isinstance(value, list | tuple):
        return "a list"
    return _KINDS.get(type(value)) or f"a {type(value).__name__}"


def _is_number(value: object) -> bool:
    """Whether ``value`` is an int or a float; booleans are not numbers."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def _numeric_pair(a: Any, b: Any) -> tuple[Any, Any]:
    # The one place text becomes a number: a comparison whose other side is a number.
    if isinstance(a, str) and _is_number(b):
        return (a if (number := numeric_value(a)) is None else number), b
    if isinstance(b, str) and _is_number(a):
        return a, (b if (number := numeric_value(b)) is None else number)
    return a, b


def _equal(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is b
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    a, b = _numeric_pair(a, b)
    return bool(a == b)


def _ordering(compare: Callable[[Any, Any], Any], symbol: str) -> Callable[[Any, Any], bool]:
    def test(a: Any, b: Any) -> bool:
        if a is None or b is None:
            return False
        a, b = _numeric_pair(a, b)
        if not isinstance(a, bool) and not isinstance(b, bool) and _kind(a) == _kind(b):
            try:
                return bool(compare(a, b))
            except TypeError:  # same kind yet unorderable: a date and a datetime, ...
                pass
        raise _Problem(f"cannot compare {_kind(a)} with {_kind(b)} using '{symbol}'")

    return test


def _contains(item: Any, container: Any) -> bool:
    if container is None:
        return False
    if isinstance(container, str):
        if item is None or isinstance(item, str):
            return item is not None and item in container
        raise _Problem(f"'in' with text on the right needs text on the left, not {_kind(item)}")
    if isinstance(container, list | tuple | set | frozenset | dict):
        return any(_equal(item, member) for member in container)
    raise _Problem(f"'in' needs a list or text on the right, not {_kind(container)}")


def _arithmetic(
    compute: Callable[[Any, Any], Any], complaint: str, divides: bool = False
) -> Callable[[Any, Any], Any]:
    def apply(a: Any, b: Any) -> Any:
        if _is_number(a) and _is_number(b):
            if divides and b == 0:
                raise _Problem("division by zero")
            try:
                result = compute(a, b)
            except OverflowError:  # an int too large to become a float
                raise _Problem("number is too large") from None
            if isinstance(result, int) and result.bit_length() > _MAX_INT_BITS:
                raise _Problem("number is too large")
            if isinstance(result, float) and not math.isfinite(result):
                raise _Problem("number is too large")
            return result
        if compute is operator.add and isinstance(a, str) and isinstance(b, str):
            if len(a) + len(b) > _MAX_TEXT:
                raise _Problem(f"text would be longer than {_MAX_TEXT} characters")
            return a + b
        raise _Problem(complaint.format(a=_kind(a), b=_kind(b)))

    return apply


_OPERATIONS: Final[dict[str, Callable[[Any, Any], Any]]] = {
    "==": _equal,
    "!=": lambda a, b: not _equal(a, b),
    "<": _ordering(operator.lt, "<"),
    "<=": _ordering(operator.le, "<="),
    ">": _ordering(operator.gt, ">"),
    ">=": _ordering(operator.ge, ">="),
    "in": _contains,
    "not in": lambda a, b: not _contains(a, b),
    "+": _arithmetic(operator.add, "cannot add {a} and {b}"),
    "-": _arithmetic(operator.sub, "cannot subtract {b} from {a}"),
    "*": _arithmetic(operator.mul, "cannot multiply {a} by {b}"),
    "/": _arithmetic(operator.truediv, "cannot divide {a} by {b}", divides=True),
    "//": _arithmetic(operator.floordiv, "cannot divide {a} by {b}", divides=True),
    "%": _arithmetic(operator.mod, "cannot divide {a} by {b}", divides=True),
}


# --- closures -------------------------------------------------------------------------

Evaluate = Callable[[Mapping[str, Any]], Any]


class Node(NamedTuple):
    """A compiled operand or operation: its closure and its position in the source."""

    fn: Evaluate
    pos: int
    slot: str | None = None  # set for a bare slot reference, to name the slot in errors


def constant(value: Any, pos: int) -> Node:
    return Node(lambda slots: value, pos)


def slot(name: str, pos: int) -> Node:
    return Node(lambda slots: slots.get(name), pos, name)


def listing(items: list[Node], pos: int) -> Node:
    fns = tuple(item.fn for item in items)
    # A fresh list per evaluation: a caller that stores it in a slot may mutate it.
    return Node(lambda slots: [fn(slots) for fn in fns], pos)


def negation(operand: Node, pos: int) -> Node:
    fn = operand.fn
    return Node(lambda slots: not fn(slots), pos)


def logic(operands: list[Node], *, stop_when: bool) -> Node:
    # `or` stops at the first truthy operand, `and` at the first falsy one; either
    # returns the operand it stopped at (or the last), as Python does.
    fns = tuple(node.fn for node in operands)

    def evaluate(slots: Mapping[str, Any]) -> Any:
        value = None
        for fn in fns:
            value = fn(slots)
            if bool(value) is stop_when:
                return value
        return value

    return Node(evaluate, operands[0].pos)


def _require(text: str, node: Node, value: Any) -> None:
    # Arithmetic on an empty slot is the likeliest author mistake: name the slot.
    if value is None and node.slot is not None:
        raise ExpressionError(text, node.pos, f"'{node.slot}' has no value")


def comparison(text: str, first: Node, steps: list[tuple[str, int, Node]]) -> Node:
    """``first`` compared in turn by each step's (symbol, symbol's position, operand)."""
    tests = tuple((_OPERATIONS[symbol], pos, node.fn) for symbol, pos, node in steps)

    def compare(slots: Mapping[str, Any]) -> bool:
        # Chained like Python: `a < b <= c` is `a < b and b <= c`, b computed once.
        left = first.fn(slots)
        for test, pos, fn in tests:
            right = fn(slots)
            try:
                if not test(left, right):
                    return False
            except _Problem as problem:
                raise ExpressionError(text, pos, str(problem)) from None
            left = right
        return True

    return Node(compare, first.pos)


def arithmetic(text: str, first: Node, steps: list[tuple[str, int, Node]]) -> Node:
    """``first`` combined in turn with each step's (symbol, symbol's position, operand)."""
    applies = tuple((_OPERATIONS[symbol], pos, node) for symbol, pos, node in steps)

    def compute(slots: Mapping[str, Any]) -> Any:
        value = first.fn(slots)
        _require(text, first, value)
        for apply, pos, node in applies:
            right = node.fn(slots)
            _require(text, node, right)
            try:
                value = apply(value, right)
            except _Problem as problem:
                raise ExpressionError(text, pos, str(problem)) from None
        return value

    return Node(compute, first.pos)


def sign(text: str, symbol: str, operand: Node, pos: int) -> Node:
    fn, negate = operand.fn, symbol == "-"

    def evaluate(slots: Mapping[str, Any]) -> Any:
        value = fn(slots)
        if _is_number(value):
            return -value if negate else value
        _require(text, operand, value)
        raise ExpressionError(text, pos, f"cannot apply unary '{symbol}' to {_kind(value)}")

    return Node(evaluate, pos)
