r"""One small, safe expression language for conditions and computed slot values.

Used by ``set`` values (``{counter} + 1``), ``branch`` ``evaluate`` fields and ``while``
conditions (``amount > 100 and account in ['checking', 'savings']``). Nothing is
``eval``-ed: a hand-written tokenizer and precedence-climbing parser turn the source
into a tree of Python closures once (cached per source); evaluating only calls them.

Syntax, loosest binding first, as in Python: ``or``; ``and``; ``not``; comparisons
``== != < <= > >= in``, ``not in``, chained like Python's (``1 < x <= 10``); ``+ -``;
``* / // %``; unary ``-`` and ``+``. Operands: slot names, bare (``amount``) or in
braces (``{amount}``); numbers (``3``, ``2.5``, ``1e3``); text in single or double
quotes (escapes ``\\ \' \" \n \t``); ``true``/``false``; ``null``/``none``; lists
``[1, 2]``; parentheses. Literal and operator words are case-insensitive and cannot name
slots. Everything else (``&&``, ``||``, ``!``, ``**``, attribute access, subscripts,
calls, lambdas, comprehensions, f-strings, ``:=``, ``if``/``else``, ``is``) is an
:class:`~soni.errors.ExpressionError` at compile time naming the problem and position.

Semantics, the decisions a bot author relies on:

* A slot that is missing or holds ``None`` evaluates to ``None``.
* ``and``/``or`` short-circuit and return an operand, as in Python (``nickname or name``
  is a fallback); truthiness is Python's: ``0``, ``""``, ``[]`` and ``None`` are false.
* ``==``/``!=`` never raise. ``None`` equals only ``None``; a boolean only a boolean
  (``true == 1`` is false); text comparison is case-sensitive.
* A number compared with a *numeric string* (``"100"``, ``" -2.5 "``; see
  :func:`numeric_value`) compares numerically, with every comparison operator and with
  ``in`` on a list, because slot values often arrive as the text the user typed. Nothing
  else converts: two texts compare as text, and arithmetic never turns text into a
  number (``"5" + 1`` is an error).
* Ordering with ``None`` on either side is ``False``; between values of different kinds
  (text and a number, a boolean and anything) it is an error.
* ``x in y``: ``y`` a list (tuple, set, dict keys) uses ``==`` above; ``y`` text is a
  substring test that needs text ``x``; ``y`` ``None`` gives ``False``.
* Arithmetic needs numbers (booleans are not numbers); ``+`` also joins two texts.
  ``None`` is an error naming the slot ("'counter' has no value"), and so is division
  by zero. ``/`` always gives a float.

Limits against abuse: a source over 1,000 characters, nesting deeper than 50 levels
(each parenthesis, bracket and operator is a level; a flat ``a + b + c`` is one), an
integer over 4,096 bits, an infinite float or a text over 100,000 characters is an
error; with no ``**`` and no ``*`` on text, a short expression cannot build a huge value.
The nesting bound also bounds the Python stack: at most about 250 frames.
"""

from __future__ import annotations

import functools
import keyword
import math
import operator
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, NamedTuple, NoReturn

from soni.errors import ExpressionError

__all__ = ("MAX_DEPTH", "MAX_LENGTH", "Expression", "compile_expression", "numeric_value")

MAX_LENGTH: Final = 1000
MAX_DEPTH: Final = 50
_MAX_INT_BITS: Final = 4096
_MAX_TEXT: Final = 100_000

_Eval = Callable[[Mapping[str, Any]], Any]


@dataclass(frozen=True, slots=True)
class Expression:
    """A compiled expression; build one with :func:`compile_expression`.

    Attributes:
        source: The text it was compiled from.
        names: The slot names it reads.
    """

    source: str
    names: frozenset[str]
    _evaluate: _Eval = field(repr=False, compare=False)

    def evaluate(self, slots: Mapping[str, Any]) -> Any:
        """Compute the expression's value from the current slot values.

        Args:
            slots: Slot values by name; a missing name reads as ``None``.

        Returns:
            The value: a bool for a condition, or a number, text, list or ``None``.

        Raises:
            ExpressionError: An operation got unsuitable operands: ``None`` or text in
                arithmetic, division by zero, ordering text against a number, ...
        """
        return self._evaluate(slots)


@functools.lru_cache(maxsize=4096)
def compile_expression(text: str) -> Expression:
    """Compile ``text`` once; later calls with the same text return the same object.

    Args:
        text: The expression's source.

    Returns:
        The compiled expression.

    Raises:
        ExpressionError: The source is malformed, uses a construct the language does not
            have, or exceeds the length or nesting limit.
    """
    if len(text) > MAX_LENGTH:
        raise ExpressionError(
            text, MAX_LENGTH, f"expression is longer than {MAX_LENGTH} characters"
        )
    parser = _Parser(text)
    node = parser.parse()
    return Expression(text, frozenset(parser.names), node.fn)


_NUMERIC = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def numeric_value(value: object) -> int | float | None:
    """Return the number ``value`` is or spells, else ``None``.

    Numbers other than booleans come back unchanged; text that is a plain decimal number
    once surrounding whitespace is trimmed (``"100"``, ``"-2.5"``, ``"1e3"``) is parsed;
    anything else (``"1,000"``, ``"nan"``, ``"ten"``, ``True``) is not a number.
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


# --- tokens -------------------------------------------------------------------------

_SCAN = re.compile(
    r"(?P<space>\s+)"
    r"|(?P<number>(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"""|(?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")"""
    r"|(?P<op>\*\*|//|==|!=|<=|>=|:=|&&|\|\||<<|>>|[-+*/%<>()\[\]{},.=!&|^~@:;])",
    re.DOTALL,
)
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
_ESCAPES: Final = {"\\": "\\", "'": "'", '"': '"', "n": "\n", "t": "\t"}
_PREFIXES: Final = frozenset(("f", "r", "b", "u", "rb", "br", "fr", "rf"))
_VALID: Final = frozenset(
    ("==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "//", "%", *"()[]{},")
)
_OP_MESSAGES: Final = {
    "**": "unknown operator '**'",
    "&&": "unknown operator '&&' (use 'and')",
    "||": "unknown operator '||' (use 'or')",
    "!": "unknown operator '!' (use 'not')",
    "=": "unknown operator '=' (use '==' to compare)",
    ":=": "assignment (:=) is not allowed",
    ".": "attribute access is not allowed",
    ":": "unexpected ':'",
    ";": "unexpected ';'",
}


class _Token(NamedTuple):
    kind: str  # "number", "string", "name", "op", "end", or "error" (value: the message)
    value: Any
    pos: int
    raw: str


def _tokens(text: str) -> Iterator[_Token]:
    # Lexical errors are yielded as "error" tokens, raised only when the parser looks
    # at them, so the leftmost problem is the one reported (`lambda: 1` complains about
    # `lambda`, not the `:` after it).
    pos, end = 0, len(text)
    while pos < end:
        token = _scan(text, pos)
        if token.kind == "error":
            yield token
            return
        if token.kind != "space":
            yield token
        pos += len(token.raw)
    yield _Token("end", None, end, "")


def _scan(text: str, pos: int) -> _Token:
    match = _SCAN.match(text, pos)
    if match is None:
        char = text[pos]
        problem = "unterminated string" if char in "'\"" else f"unexpected character {char!r}"
        return _Token("error", problem, pos, char)
    kind, raw, after = match.lastgroup or "", match.group(), match.end()
    value: Any = raw
    message: str | None = None
    if kind == "number":
        value = float(raw) if any(c in raw for c in ".eE") else int(raw)
        if after < len(text) and (text[after].isalnum() or text[after] in "_."):
            message = f"invalid number {text[pos : after + 1]!r}"
        elif not math.isfinite(value):
            message = f"number {raw} is too large"
    elif kind == "name" and raw.lower() in _PREFIXES and text[after : after + 1] in ("'", '"'):
        message = ("f-strings" if "f" in raw.lower() else "string prefixes") + " are not allowed"
    elif kind == "string":
        value, message = _unescape(raw)
    elif kind == "op" and raw not in _VALID:
        message = _OP_MESSAGES.get(raw, f"unknown operator '{raw}'")
    return _Token("error", message, pos, raw) if message else _Token(kind, value, pos, raw)


def _unescape(raw: str) -> tuple[str, str | None]:
    body = raw[1:-1]
    if "\\" not in body:
        return body, None
    bad = next((m.group() for m in _ESCAPE.finditer(body) if m.group(1) not in _ESCAPES), None)
    if bad is not None:
        return body, f"unknown escape '{bad}' in text"
    return _ESCAPE.sub(lambda m: _ESCAPES[m.group(1)], body), None


def _describe(token: _Token) -> str:
    return repr(token.raw) if token.raw else "end of expression"


# --- parser ---------------------------------------------------------------------------

_OR, _AND, _NOT, _COMPARE, _SUM, _PRODUCT, _UNARY = range(1, 8)
_SYMBOL_LEVELS: Final = {
    **dict.fromkeys(("==", "!=", "<", "<=", ">", ">="), _COMPARE),
    **dict.fromkeys(("+", "-"), _SUM),
    **dict.fromkeys(("*", "/", "//", "%"), _PRODUCT),
}
_WORD_LEVELS: Final = {"or": _OR, "and": _AND, "in": _COMPARE, "not": _COMPARE}
_LITERALS: Final[dict[str, Any]] = {"true": True, "false": False, "null": None, "none": None}
_RESERVED: Final = {
    **{
        word: f"'{word}' is a reserved word"
        for word in map(str.lower, keyword.kwlist)
        if word not in _LITERALS and word not in _WORD_LEVELS
    },
    "lambda": "lambdas are not allowed",
    "for": "comprehensions are not allowed",
    "import": "import is not allowed",
    "from": "import is not allowed",
    "if": "conditional expressions (if/else) are not allowed",
    "else": "conditional expressions (if/else) are not allowed",
    "is": "unknown operator 'is' (use '==' or '!=')",
}


class _Node(NamedTuple):
    fn: _Eval
    slot: str | None  # set when the node is a bare slot reference, to name it in errors
    pos: int


class _Parser:
    """Precedence climbing over a lazy token stream, building closures as it goes."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._tokens = _tokens(text)
        self._token = next(self._tokens)
        self._depth = 0
        self.names: set[str] = set()

    def parse(self) -> _Node:
        if self._peek().kind == "end":
            self._fail(0, "empty expression")
        node = self._expr(_OR)
        token = self._peek()
        if token.kind != "end":
            if token.raw in (")", "]", "}"):
                self._fail(token.pos, f"unmatched {token.raw!r}")
            self._fail(token.pos, f"expected an operator, found {_describe(token)}")
        return node

    def _fail(self, pos: int, message: str) -> NoReturn:
        raise ExpressionError(self._text, pos, message)

    def _peek(self) -> _Token:
        token = self._token
        if token.kind == "error":
            self._fail(token.pos, token.value)
        return token

    def _advance(self) -> _Token:
        token = self._peek()
        if token.kind != "end":
            self._token = next(self._tokens)
        return token

    def _at(self, symbol: str) -> bool:
        token = self._peek()
        return token.kind == "op" and token.value == symbol

    def _expect(self, symbol: str) -> None:
        token = self._peek()
        if self._at(symbol):
            self._advance()
        elif token.kind == "end":
            self._fail(token.pos, f"unexpected end of expression (missing {symbol!r})")
        else:
            self._fail(token.pos, f"expected {symbol!r}, found {_describe(token)}")

    def _nested(self, level: int, pos: int) -> _Node:
        # Every recursive descent goes through here, so the depth bound also bounds the
        # Python stack used by parsing and, later, by the closures.
        self._depth += 1
        if self._depth > MAX_DEPTH:
            self._fail(pos, f"expression is nested more than {MAX_DEPTH} levels deep")
        node = self._expr(level)
        self._depth -= 1
        return node

    def _expr(self, min_level: int) -> _Node:
        node = self._prefix(min_level)
        while (level := self._infix_level()) is not None and level >= min_level:
            node = self._chain(level, node)
        return node

    def _infix_level(self) -> int | None:
        token = self._peek()
        if token.kind == "op":
            if token.value == "(":
                self._fail(token.pos, "function calls are not allowed")
            if token.value == "[":
                self._fail(token.pos, "subscripts are not allowed")
            return _SYMBOL_LEVELS.get(token.value)
        if token.kind == "name":
            word = token.value.lower()
            if word in _WORD_LEVELS:
                return _WORD_LEVELS[word]
            if word in _RESERVED:
                self._fail(token.pos, _RESERVED[word])
        return None

    def _chain(self, level: int, first: _Node) -> _Node:
        # Operators of one level are collected into a single n-ary node: a long sum or
        # an or-chain stays flat instead of nesting one closure per operator.
        operands, ops = [first], []
        while self._infix_level() == level:
            token = self._advance()
            op = token.value.lower() if token.kind == "name" else token.value
            if op == "not":
                following = self._peek()
                if following.kind != "name" or following.value.lower() != "in":
                    self._fail(following.pos, "expected 'in' after 'not'")
                self._advance()
                op = "not in"
            ops.append((op, token.pos))
            operands.append(self._nested(level + 1, token.pos))
        if level == _OR:
            return _logic(operands, stop_when=True)
        if level == _AND:
            return _logic(operands, stop_when=False)
        return _chain_node(self._text, operands, ops)

    def _prefix(self, min_level: int) -> _Node:
        token = self._advance()
        kind, value, pos = token.kind, token.value, token.pos
        if kind in ("number", "string"):
            return _Node(lambda slots: value, None, pos)
        if kind == "name":
            word = value.lower()
            if word in _LITERALS:
                literal = _LITERALS[word]
                return _Node(lambda slots: literal, None, pos)
            if word == "not":
                if min_level > _NOT:
                    self._fail(pos, "'not' needs parentheses here")
                fn = self._nested(_NOT, pos).fn
                return _Node(lambda slots: not fn(slots), None, pos)
            return self._slot(token)
        if kind == "op":
            if value == "(":
                node = self._nested(_OR, pos)
                self._expect(")")
                return node
            if value == "[":
                return self._list(pos)
            if value == "{":
                name = self._advance()
                if name.kind != "name":
                    self._fail(name.pos, "expected a slot name after '{'")
                node = self._slot(name)
                self._expect("}")
                return node._replace(pos=pos)  # errors point at the brace the author wrote
            if value in ("-", "+"):
                return _sign(self._text, value, self._nested(_UNARY, pos), pos)
        if kind == "end":
            self._fail(pos, "unexpected end of expression")
        self._fail(pos, f"unexpected {_describe(token)}")

    def _slot(self, token: _Token) -> _Node:
        name: str = token.value
        word = name.lower()
        if word in _LITERALS or word in _WORD_LEVELS:
            self._fail(token.pos, f"'{name}' is not a slot name")
        if word in _RESERVED:
            self._fail(token.pos, _RESERVED[word])
        self.names.add(name)
        return _Node(lambda slots: slots.get(name), name, token.pos)

    def _list(self, pos: int) -> _Node:
        items: list[_Eval] = []
        while not self._at("]"):
            items.append(self._nested(_OR, pos).fn)
            if self._at(","):
                self._advance()
            elif not self._at("]"):
                self._expect("]")
        self._advance()
        fns = tuple(items)
        # A fresh list per evaluation: a caller that stores it in a slot may mutate it.
        return _Node(lambda slots: [fn(slots) for fn in fns], None, pos)


# --- values ---------------------------------------------------------------------------


class _Problem(Exception):
    """Raised by the value helpers; the closure that called one adds text and position."""


_KINDS: Final = {bool: "a boolean", int: "a number", float: "a number", str: "text"}


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, list | tuple):
        return "a list"
    return _KINDS.get(type(value)) or f"a {type(value).__name__}"


def _is_number(value: object) -> bool:
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


def _arithmetic_op(
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
    "+": _arithmetic_op(operator.add, "cannot add {a} and {b}"),
    "-": _arithmetic_op(operator.sub, "cannot subtract {b} from {a}"),
    "*": _arithmetic_op(operator.mul, "cannot multiply {a} by {b}"),
    "/": _arithmetic_op(operator.truediv, "cannot divide {a} by {b}", divides=True),
    "//": _arithmetic_op(operator.floordiv, "cannot divide {a} by {b}", divides=True),
    "%": _arithmetic_op(operator.mod, "cannot divide {a} by {b}", divides=True),
}


# --- closures -------------------------------------------------------------------------


def _logic(operands: list[_Node], *, stop_when: bool) -> _Node:
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

    return _Node(evaluate, None, operands[0].pos)


def _require(text: str, node: _Node, value: Any) -> None:
    # Arithmetic on an empty slot is the likeliest author mistake: name the slot.
    if value is None and node.slot is not None:
        raise ExpressionError(text, node.pos, f"'{node.slot}' has no value")


def _chain_node(text: str, operands: list[_Node], ops: list[tuple[str, int]]) -> _Node:
    first = operands[0]
    steps = tuple(
        (_OPERATIONS[op], pos, node) for (op, pos), node in zip(ops, operands[1:], strict=True)
    )
    if ops[0][0] not in _SYMBOL_LEVELS or _SYMBOL_LEVELS[ops[0][0]] == _COMPARE:

        def compare(slots: Mapping[str, Any]) -> bool:
            # Chained like Python: `a < b <= c` is `a < b and b <= c`, b computed once.
            left = first.fn(slots)
            for test, pos, node in steps:
                right = node.fn(slots)
                try:
                    if not test(left, right):
                        return False
                except _Problem as problem:
                    raise ExpressionError(text, pos, str(problem)) from None
                left = right
            return True

        return _Node(compare, None, first.pos)

    def compute(slots: Mapping[str, Any]) -> Any:
        value = first.fn(slots)
        _require(text, first, value)
        for apply, pos, node in steps:
            right = node.fn(slots)
            _require(text, node, right)
            try:
                value = apply(value, right)
            except _Problem as problem:
                raise ExpressionError(text, pos, str(problem)) from None
        return value

    return _Node(compute, None, first.pos)


def _sign(text: str, symbol: str, operand: _Node, pos: int) -> _Node:
    fn, negate = operand.fn, symbol == "-"

    def evaluate(slots: Mapping[str, Any]) -> Any:
        value = fn(slots)
        if _is_number(value):
            return -value if negate else value
        _require(text, operand, value)
        raise ExpressionError(text, pos, f"cannot apply unary '{symbol}' to {_kind(value)}")

    return _Node(evaluate, None, pos)
