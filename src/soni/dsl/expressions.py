r"""One small, safe expression language for conditions and computed slot values.

Used by ``set`` values (``{counter} + 1``), ``branch`` ``evaluate`` fields and ``while``
conditions (``amount > 100 and account in ['checking', 'savings']``). Nothing is
``eval``-ed: Python's own parser (:func:`ast.parse`) reads the source, a strict whitelist
of node kinds checks the tree, and the tree becomes Python closures once (cached per
source); evaluating only calls them. Python's tokenizer runs first, to fold operator words
to lower case and to refuse what Python reads but this language does not have (comments,
string prefixes, escapes other than the five below, ``0x10``, ``1_000``, ``1j``).

Syntax, loosest binding first, as in Python: ``or``; ``and``; ``not``; comparisons
``== != < <= > >= in``, ``not in``, chained like Python's (``1 < x <= 10``); ``+ -``;
``* / // %``; unary ``-`` and ``+``. Operands: slot names, bare (``amount``) or in
braces (``{amount}``); numbers (``3``, ``2.5``, ``1e3``); text in single or double
quotes (escapes ``\\ \' \" \n \t``); ``true``/``false``; ``null``/``none``; lists
``[1, 2]``; parentheses. Whitespace, line breaks included, only separates. Literal and
operator words are case-insensitive; they and Python's keywords cannot name slots.
Everything else (``&&``, ``||``, ``!``, ``**``, attribute access, subscripts,
calls, lambdas, comprehensions, f-strings, ``:=``, ``if``/``else``, ``is``) is an
:class:`~soni.dsl.errors.ExpressionError` at compile time naming the problem and position.

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
(brackets inside brackets, or operators inside operators; a flat ``a + b + c`` is one
level), an integer over 4,096 bits, an infinite float or a text over 100,000 characters
is an error; with no ``**`` and no ``*`` on text, a short expression cannot build a huge
value. The length limit is checked before anything is parsed; the nesting bound also
bounds the Python stack used to parse, compile and evaluate, to under 200 frames.
"""

from __future__ import annotations

import ast
import functools
import io
import keyword
import math
import re
import string
import tokenize
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, NamedTuple, NoReturn, TypeGuard

from soni.dsl import _values
from soni.dsl._values import Evaluate, Node, numeric_value
from soni.dsl.errors import ExpressionError
from soni.dsl.templates import Template, compile_template

__all__ = (
    "MAX_DEPTH",
    "MAX_LENGTH",
    "Expression",
    "compile_computed",
    "compile_expression",
    "numeric_value",
)

MAX_LENGTH: Final = 1000
MAX_DEPTH: Final = 50


@dataclass(frozen=True, slots=True)
class Expression:
    """A compiled expression; build one with :func:`compile_expression`.

    Attributes:
        source: The text it was compiled from.
        names: The slot names it reads.
    """

    source: str
    names: frozenset[str]
    _evaluate: Evaluate = field(repr=False, compare=False)

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
    if not text.strip():
        raise ExpressionError(text, 0, "empty expression")
    source = _Source(text)
    compiler = _Compiler(source)
    node = compiler.compile(source.parse())
    return Expression(text, frozenset(compiler.names), node.fn)


@functools.lru_cache(maxsize=1024)
def compile_computed(text: str) -> Expression | Template:
    """A ``set`` value with ``{slot}`` references: an expression when it is one
    (``"{counter} + 1"`` keeps its type), else a template (``"Hello {name}"``).

    Raises:
        TemplateError: it is neither (a template's error: the likelier intent).
    """
    try:
        return compile_expression(text)
    except ExpressionError:
        return compile_template(text)


# --- tokens and parsing ---------------------------------------------------------------

_TOO_DEEP: Final = f"expression is nested more than {MAX_DEPTH} levels deep"
_DECIMAL = re.compile(r"(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_QUOTED = re.compile(r"""'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*\"""", re.DOTALL)
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
_ESCAPES: Final = {"\\": "\\", "'": "'", '"': '"', "n": "\n", "t": "\t"}
_CULPRIT = re.compile(r"\s*(?:[A-Za-z]+(?=['\"]))?")  # spaces, and a string's prefix
_CLOSERS: Final = {"(": ")", "[": "]", "{": "}"}
_LITERALS: Final[dict[str, Any]] = {"true": True, "false": False, "null": None, "none": None}
_WORD_OPERATORS: Final = frozenset(("and", "or", "not", "in"))
_RESERVED: Final = {
    **{
        word: f"'{word}' is a reserved word"
        for word in keyword.kwlist
        if word.islower() and word not in _WORD_OPERATORS
    },
    "lambda": "lambdas are not allowed",
    "for": "comprehensions are not allowed",
    "import": "import is not allowed",
    "from": "import is not allowed",
    "if": "conditional expressions (if/else) are not allowed",
    "else": "conditional expressions (if/else) are not allowed",
    "is": "unknown operator 'is' (use '==' or '!=')",
}
_SYMBOL_MESSAGES: Final = {
    "&&": "unknown operator '&&' (use 'and')",
    "||": "unknown operator '||' (use 'or')",
    "!": "unknown operator '!' (use 'not')",
    "=": "unknown operator '=' (use '==' to compare)",
    ":=": "assignment (:=) is not allowed",
    ";": "unexpected ';'",
}


class _Token(NamedTuple):
    text: str  # as the author wrote it
    pos: int
    starts: bool  # an operand starts here: a name, number or text, or an opening bracket
    ends: bool  # an operand ends here: a name, number or text, or a closing bracket
    bracket: str  # the innermost bracket open around the token; "" at the top level


class _Source:
    """The source as Python's tokenizer and parser see it, and positions back into it.

    Every whitespace character becomes a space, so the source is one line with the same
    offsets: line breaks in a YAML block are harmless, and a position in the parsed line
    is a position in the author's text. Text values are read from the author's text.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens: list[_Token] = []
        self.strings: dict[int, str] = {}  # the value of each quoted text, by position
        self._brackets: list[str] = []
        if (nul := text.find("\0")) >= 0:  # Python refuses it even inside quotes
            self.fail(nul, "unexpected character '\\x00'")
        self._chars = [" " if char.isspace() else char for char in text]
        line = "".join(self._chars)
        self.lead = len(line) - len(line.lstrip(" "))  # Python's line cannot be indented
        self._lex(line[self.lead :])
        self.line = "".join(self._chars)[self.lead :]
        self._encoded = None if self.line.isascii() else self.line.encode()

    def fail(self, pos: int, message: str) -> NoReturn:
        raise ExpressionError(self.text, pos, message)

    def _lex(self, line: str) -> None:
        try:
            for token in tokenize.generate_tokens(io.StringIO(line).readline):
                if not token.string.strip():
                    continue  # the end of the line, or a space after an unknown character
                pos = self.lead + token.start[1]
                bracket = self._brackets[-1] if self._brackets else ""
                self._check(token.type, token.string, pos)
                text = self.text[pos : pos + len(token.string)]
                operand = token.type != tokenize.OP and text.lower() not in _WORD_OPERATORS
                starts, ends = operand or text in _CLOSERS, operand or text in _CLOSERS.values()
                self.tokens.append(_Token(text, pos, starts, ends, bracket))
        except (tokenize.TokenError, SyntaxError):
            # Where the tokenizer says it gave up differs between Python versions; the
            # character after the last token it read is the culprit.
            after = self.tokens[-1].pos + len(self.tokens[-1].text) if self.tokens else 0
            culprit = _CULPRIT.match(self.text, after)
            self._fail_at_character(culprit.end() if culprit else after)
        if self._brackets:
            self._fail_at_character(len(self.text))

    def _check(self, kind: int, raw: str, pos: int) -> None:
        # What Python's tokenizer reads but this language does not have; the parser and
        # the whitelist deal with the rest. Operator words and `007` are rewritten.
        if kind == tokenize.NAME:
            if not raw.isascii():
                offset = next(i for i, char in enumerate(raw) if not char.isascii())
                self.fail(pos + offset, f"unexpected character {raw[offset]!r}")
            word = raw.lower()
            if word in _RESERVED:
                self.fail(pos, _RESERVED[word])
            if word in _WORD_OPERATORS:  # Python knows them in lower case only
                self._chars[pos : pos + len(raw)] = word
        elif kind == tokenize.NUMBER:
            self._number(pos)
        elif kind != tokenize.ERRORTOKEN and raw[-1:] in ("'", '"'):  # 3.12 splits f-strings
            self._string(raw, pos)
        elif kind != tokenize.OP or raw not in tokenize.EXACT_TOKEN_TYPES:
            self._fail_at_character(pos)  # a comment, `$`, `!`, ...
        elif raw in _CLOSERS:
            if len(self._brackets) >= MAX_DEPTH:
                self.fail(pos, _TOO_DEEP)
            self._brackets.append(raw)
        elif raw in _CLOSERS.values():
            if not self._brackets:
                self.fail(pos, f"unmatched {raw!r}")
            if (closer := _CLOSERS[self._brackets.pop()]) != raw:
                self.fail(pos, f"expected {closer!r}, found {raw!r}")
        elif raw * 2 in _SYMBOL_MESSAGES and self.text.startswith(raw * 2, pos):
            self.fail(pos, _SYMBOL_MESSAGES[raw * 2])
        elif raw in _SYMBOL_MESSAGES:
            self.fail(pos, _SYMBOL_MESSAGES[raw])

    def _number(self, pos: int) -> None:
        match = _DECIMAL.match(self.text, pos)
        after = match.end() if match else pos
        tail = self.text[after : after + 1]
        if not match or tail.isalnum() or tail in ("_", "."):
            self.fail(pos, f"invalid number {self.text[pos : after + 1]!r}")
        number = match.group()
        if any(char in number for char in ".eE"):
            if not math.isfinite(float(number)):
                self.fail(pos, f"number {number} is too large")
        elif number[0] == "0":  # Python refuses `007`: keep its value, and the offsets
            self._chars[pos:after] = str(int(number)).ljust(len(number))

    def _string(self, raw: str, pos: int) -> None:
        if prefix := raw[: len(raw) - len(raw.lstrip(string.ascii_letters))]:
            problem = "f-strings" if "f" in prefix.lower() else "string prefixes"
            self.fail(pos, f"{problem} are not allowed")
        source = self.text[pos : pos + len(raw)]
        if not _QUOTED.fullmatch(source):
            self.fail(pos, "triple quotes are not allowed")
        if self.tokens and self.tokens[-1].pos in self.strings:  # Python would join them
            self.fail(pos, self._missing_operator(source, self.tokens[-1].bracket))
        body = source[1:-1]
        bad = next((m.group() for m in _ESCAPE.finditer(body) if m.group(1) not in _ESCAPES), "")
        if bad:
            self.fail(pos, f"unknown escape '{bad}' in text")
        self.strings[pos] = _ESCAPE.sub(lambda m: _ESCAPES[m.group(1)], body)

    def _fail_at_character(self, pos: int) -> NoReturn:
        if pos >= len(self.text):
            missing = f" (missing {_CLOSERS[self._brackets[-1]]!r})" if self._brackets else ""
            self.fail(len(self.text), f"unexpected end of expression{missing}")
        char = self.text[pos]
        if char.isdigit():  # a number Python 3.12+ refuses while tokenizing, as `0or`
            self._number(pos)
        if char in "'\"":
            self.fail(pos, "unterminated string")
        self.fail(pos, _SYMBOL_MESSAGES.get(char, f"unexpected character {char!r}"))

    @staticmethod
    def _missing_operator(found: str, bracket: str) -> str:
        expected = repr(_CLOSERS[bracket]) if bracket else "an operator"
        return f"expected {expected}, found {found!r}"

    def parse(self) -> ast.expr:
        try:
            return ast.parse(self.line, mode="eval").body
        except SyntaxError as error:
            self.fail(*self._diagnose(error))
        except (RecursionError, MemoryError):  # a tree too deep for this interpreter
            self.fail(0, _TOO_DEEP)

    def _diagnose(self, error: SyntaxError) -> tuple[int, str]:
        # Python's message and position vary between versions; the tokens do not.
        end = len(self.text)
        start = self.lead + error.offset - 1 if error.lineno == 1 and error.offset else end
        found = [i for i, token in enumerate(self.tokens) if token.pos + len(token.text) > start]
        if not found:
            return end, "unexpected end of expression"
        i = found[0]
        if error.end_lineno == 1 and error.end_offset:
            # "Perhaps you forgot a comma?" marks both operands: point at the second.
            stop = self.lead + error.end_offset - 1
            i = next((j for j in found[1:] if self.tokens[j].pos < stop and self._adjacent(j)), i)
        token = self.tokens[i]
        before = self.tokens[max(i - 2, 0) : i]
        if len(before) == 2 and before[0].ends and before[1].text.lower() == "not":
            return token.pos, "expected 'in' after 'not'"
        if token.text.lower() == "not":
            return token.pos, "'not' needs parentheses here"
        if self._adjacent(i):
            return token.pos, self._missing_operator(token.text, token.bracket)
        if token.text in _FOREIGN_OPERATORS:
            return token.pos, f"unknown operator {token.text!r}"
        return token.pos, f"unexpected {token.text!r}"

    def _adjacent(self, i: int) -> bool:
        """Whether token ``i`` starts an operand right where one ended."""
        return i > 0 and self.tokens[i - 1].ends and self.tokens[i].starts

    def pos(self, node: ast.expr) -> int:
        return self._char(node.col_offset)

    def end(self, node: ast.expr) -> int:
        return self._char(node.end_col_offset or 0)

    def after(self, node: ast.expr, symbol: str) -> int:
        """The position of ``symbol`` after ``node``; only spaces and ``)`` come between."""
        return self.line.index(symbol, self.end(node) - self.lead) + self.lead

    def _char(self, byte_offset: int) -> int:
        # The parser counts UTF-8 bytes; the author counts characters.
        if self._encoded is None:
            return self.lead + byte_offset
        return self.lead + len(self._encoded[:byte_offset].decode())


# --- the whitelist ------------------------------------------------------------------

_ARITHMETIC: Final = {
    ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%"
}  # fmt: skip
_SUMS: Final = frozenset((ast.Add, ast.Sub))
_COMPARISONS: Final = {
    ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=",
    ast.In: "in", ast.NotIn: "not in",
}  # fmt: skip
_SIGNS: Final = {ast.USub: "-", ast.UAdd: "+"}
_UNKNOWN_OPERATORS: Final = {
    ast.Pow: "**", ast.BitAnd: "&", ast.BitOr: "|", ast.BitXor: "^", ast.LShift: "<<",
    ast.RShift: ">>", ast.MatMult: "@",
}  # fmt: skip
_FOREIGN_OPERATORS: Final = frozenset((*_UNKNOWN_OPERATORS.values(), "~"))
# Constructs made of symbols, by (the child the symbol follows, the symbol, the message).
# Those with words (`lambda`, `for`, `if`, `is`) or `:=` were refused as tokens already;
# any other node is "unexpected".
_NOT_ALLOWED: Final[dict[type[ast.AST], tuple[str, str, str]]] = {
    ast.Call: ("func", "(", "function calls are not allowed"),
    ast.Attribute: ("value", ".", "attribute access is not allowed"),
    ast.Subscript: ("value", "[", "subscripts are not allowed"),
    ast.Starred: ("", "*", "unpacking with '*' is not allowed"),
    ast.Dict: ("", "{", "braces hold one slot name, as in '{amount}'"),
    ast.Set: ("", "{", "braces hold one slot name, as in '{amount}'"),
}


class _Compiler:
    """Checks a parsed tree against the whitelist, then builds its closures."""

    def __init__(self, source: _Source) -> None:
        self.source = source
        self.names: set[str] = set()

    def compile(self, tree: ast.expr) -> Node:
        # The check walks the tree without recursion: a tree Python's parser built from
        # 1,000 characters can be 1,000 levels deep. Only a tree within the nesting limit
        # reaches `_build`, which recurses.
        problems: list[tuple[int, str]] = []
        stack = [(tree, 0)]
        while stack:
            node, depth = stack.pop()
            if (problem := self._problem(node)) is not None:
                problems.append(problem)
            for child in ast.iter_child_nodes(node):
                if not isinstance(child, ast.expr):
                    continue  # an operator or a context
                level = depth if isinstance(node, ast.Set) or _continues(child, node) else depth + 1
                if level > MAX_DEPTH:
                    problems.append((self.source.pos(node), _TOO_DEEP))
                else:
                    stack.append((child, level))
        if problems:
            self.source.fail(*min(problems))  # the leftmost, as a reader meets them
        return self._build(tree)

    def _problem(self, node: ast.expr) -> tuple[int, str] | None:
        source, pos = self.source, self.source.pos(node)
        match node:
            case ast.Constant(value=value) if value is None or isinstance(value, int | float):
                return None
            case ast.Constant() if pos in source.strings:
                return None  # the lexer read the text; a bytes or Ellipsis constant is unexpected
            case ast.BinOp(left=left, op=op) if type(op) not in _ARITHMETIC:
                symbol = _UNKNOWN_OPERATORS[type(op)]
                return source.after(left, symbol), f"unknown operator '{symbol}'"
            case ast.UnaryOp(op=ast.Invert()):
                return pos, "unknown operator '~'"
            case ast.Compare(left=left, ops=ops, comparators=comparators):
                for test, before in zip(ops, [left, *comparators], strict=False):
                    if type(test) not in _COMPARISONS:  # `is`, `is not`
                        return source.after(before, "is"), _RESERVED["is"]
                return None
            case ast.Tuple(elts=[first, *_]):
                return source.after(first, ","), "expected an operator, found ','"
            case ast.Tuple():  # `()`
                return source.end(node) - 1, "unexpected ')'"
            case ast.BinOp() | ast.UnaryOp() | ast.BoolOp() | ast.List() | ast.Name():
                return None
            case ast.Set(elts=[ast.Name(id=name) as element]):
                if (ast.get_source_segment(source.line, node) or "")[1:-1].strip() != name:
                    return pos, _NOT_ALLOWED[ast.Set][2]  # `{a,}`, `{(a)}`
                if name.lower() in _LITERALS:
                    return source.pos(element), f"'{name}' is not a slot name"
                return None
        if (known := _NOT_ALLOWED.get(type(node))) is not None:
            child, symbol, message = known
            return (source.after(getattr(node, child), symbol) if child else pos), message
        return pos, f"unexpected {ast.get_source_segment(source.line, node)!r}"

    def _build(self, node: ast.expr) -> Node:
        text, pos = self.source.text, self.source.pos(node)
        match node:
            case ast.Constant(value=str()):
                return _values.constant(self.source.strings[pos], pos)
            case ast.Constant(value=value):
                return _values.constant(value, pos)
            case ast.Name(id=name) if name.lower() in _LITERALS:
                return _values.constant(_LITERALS[name.lower()], pos)
            case ast.Name(id=name):
                self.names.add(name)
                return _values.slot(name, pos)
            case ast.Set(elts=[element]):
                return self._build(element)._replace(pos=pos)  # errors point at the brace
            case ast.List(elts=elements):
                return _values.listing([self._build(element) for element in elements], pos)
            case ast.BoolOp(op=op, values=values):
                operands = [self._build(value) for value in values]
                return _values.logic(operands, stop_when=isinstance(op, ast.Or))
            case ast.UnaryOp(op=ast.Not(), operand=operand):
                return _values.negation(self._build(operand), pos)
            case ast.UnaryOp(op=op, operand=operand):
                return _values.sign(text, _SIGNS[type(op)], self._build(operand), pos)
            case ast.Compare(left=left, ops=ops, comparators=comparators):
                pairs = zip(ops, [left, *comparators], strict=False)
                symbols = [(_COMPARISONS[type(op)], before) for op, before in pairs]
                steps = self._steps(symbols, comparators)
                return _values.comparison(text, self._build(left), steps)
            case ast.BinOp():
                # `a - b + c` is `(a - b) + c` to Python: one n-ary closure, not two.
                links = [node]
                while _continues(left := links[-1].left, links[-1]):
                    links.append(left)
                links.reverse()
                symbols = [(_ARITHMETIC[type(link.op)], link.left) for link in links]
                steps = self._steps(symbols, [link.right for link in links])
                return _values.arithmetic(text, self._build(links[0].left), steps)
        raise AssertionError(f"unchecked node {node!r}")

    def _steps(
        self, symbols: list[tuple[str, ast.expr]], operands: list[ast.expr]
    ) -> list[tuple[str, int, Node]]:
        """Each operator's symbol and position (after the operand before it), and operand."""
        return [
            (symbol, self.source.after(before, symbol.split()[0]), self._build(operand))
            for (symbol, before), operand in zip(symbols, operands, strict=True)
        ]


def _continues(child: ast.AST, node: ast.AST) -> TypeGuard[ast.BinOp]:
    """Whether ``child`` is the left operand of ``node`` at its level (``a - b + c``)."""
    if not (isinstance(node, ast.BinOp) and isinstance(child, ast.BinOp) and child is node.left):
        return False
    kinds = (type(node.op), type(child.op))
    return all(kind in _ARITHMETIC for kind in kinds) and (kinds[0] in _SUMS) == (kinds[1] in _SUMS)
