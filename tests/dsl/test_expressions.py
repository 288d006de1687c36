"""The expression language: syntax, precedence, semantics, rejections and limits."""

from __future__ import annotations

import dataclasses
import datetime
import itertools
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from soni.dsl.errors import ExpressionError
from soni.dsl.expressions import (
    MAX_DEPTH,
    MAX_LENGTH,
    Expression,
    compile_expression,
    numeric_value,
)
from soni.errors import SoniError


def evaluate(source: str, **slots: Any) -> Any:
    return compile_expression(source).evaluate(slots)


def evaluation_error(source: str, **slots: Any) -> ExpressionError:
    expression = compile_expression(source)
    with pytest.raises(ExpressionError) as caught:
        expression.evaluate(slots)
    return caught.value


def compile_error(source: str) -> ExpressionError:
    with pytest.raises(ExpressionError) as caught:
        compile_expression(source)
    return caught.value


# --- precedence -----------------------------------------------------------------------

BOOLEAN_FORMULAS: dict[str, Callable[[bool, bool, bool], bool]] = {
    "not a and b or c": lambda a, b, c: ((not a) and b) or c,
    "a or b and c": lambda a, b, c: a or (b and c),
    "a and b or c": lambda a, b, c: (a and b) or c,
    "not a or b": lambda a, b, c: (not a) or b,
    "not (a or b)": lambda a, b, c: not (a or b),
    "a and not b": lambda a, b, c: a and (not b),
    "not not a": lambda a, b, c: a,
    "a or not b and c": lambda a, b, c: a or ((not b) and c),
    "not a == b": lambda a, b, c: a != b,
    "a == b or c": lambda a, b, c: (a == b) or c,
    "a != b and c": lambda a, b, c: (a != b) and c,
    "(a or b) and c": lambda a, b, c: (a or b) and c,
    "NOT a AND b OR c": lambda a, b, c: ((not a) and b) or c,
}


@pytest.mark.parametrize("source", BOOLEAN_FORMULAS)
@pytest.mark.parametrize("values", list(itertools.product([False, True], repeat=3)))
def test_boolean_precedence(source: str, values: tuple[bool, bool, bool]) -> None:
    a, b, c = values
    assert evaluate(source, a=a, b=b, c=c) == BOOLEAN_FORMULAS[source](a, b, c)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("10 - 4 - 3", 3),
        ("10 - (4 - 3)", 9),
        ("2 * 3 % 4", 2),
        ("7 // 2 * 2", 6),
        ("24 / 4 / 2", 3.0),
        ("-2 * 3", -6),
        ("-(2 + 3)", -5),
        ("- -4", 4),
        ("--4", 4),
        ("2 - -3", 5),
        ("2 * -3", -6),
        ("+3", 3),
        ("-x + 1", -1),
        ("10 / 4", 2.5),
        ("8 / 4", 2.0),
        ("-7 // 2", -4),
        ("7 % 3", 1),
        ("1.5 + 1", 2.5),
        ("1e3", 1000.0),
        (".5 * 2", 1.0),
        ("1 + 2 > 2", True),
        ("2 * 3 == 6 and 1 < 2", True),
        ("1 + 1 == 2 == 4 - 2", True),
        ("'a' + 'b' + 'c'", "abc"),
    ],
)
def test_arithmetic_precedence(source: str, expected: Any) -> None:
    result = evaluate(source, x=2)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("1 < 2 < 3", True),
        ("1 < 3 < 2", False),
        ("3 > 2 > 1", True),
        ("3 > 1 > 2", False),
        ("1 <= 1 < 2", True),
        ("1 == 1 == 1", True),
        ("1 == 1 != 1", False),
        ("1 == 1 != 2", True),
        ("x < y < z", True),
        ("z > y >= x", True),
        ("x < z < y", False),
        ("1 < x <= 10", True),
        ("1 in [1] == true", False),  # chained like Python: `[1] == true` is false
    ],
)
def test_chained_comparisons(source: str, expected: bool) -> None:
    assert evaluate(source, x=1.5, y=3, z=4) is expected


class CountingSlots(Mapping[str, Any]):
    """Slots that count reads, to check what an expression evaluates and how often."""

    def __init__(self, **values: Any) -> None:
        self._values = values
        self.reads: dict[str, int] = {}

    def __getitem__(self, key: str) -> Any:
        self.reads[key] = self.reads.get(key, 0) + 1
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


def test_chained_comparison_evaluates_the_middle_operand_once() -> None:
    slots = CountingSlots(x=2)
    assert compile_expression("1 < x < 3").evaluate(slots) is True
    assert slots.reads == {"x": 1}


@pytest.mark.parametrize(
    "source",
    ["false and 1 / 0", "true or 1 / 0", "1 > 2 < 1 / 0", "0 and missing + 1", "'x' or -'y'"],
)
def test_short_circuit_skips_the_rest(source: str) -> None:
    evaluate(source)  # the skipped part would raise


@pytest.mark.parametrize(
    ("source", "slots", "expected"),
    [
        ("a or 'fallback'", {"a": ""}, "fallback"),
        ("a or 'fallback'", {"a": "set"}, "set"),
        ("a or 'fallback'", {}, "fallback"),
        ("a and 'then'", {"a": 0}, 0),
        ("a and 'then'", {"a": 1}, "then"),
        ("a and b", {}, None),
        ("not a", {"a": []}, True),
        ("not a", {"a": [0]}, False),
    ],
)
def test_and_or_return_an_operand_like_python(
    source: str, slots: dict[str, Any], expected: Any
) -> None:
    assert compile_expression(source).evaluate(slots) == expected


# --- operands and literals ------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("true", True),
        ("TRUE", True),
        ("True", True),
        ("false", False),
        ("False", False),
        ("null", None),
        ("NULL", None),
        ("none", None),
        ("None", None),
        ("42", 42),
        ("2.5", 2.5),
        ("'single'", "single"),
        ('"double"', "double"),
        ("''", ""),
        ("'it\\'s'", "it's"),
        ('"say \\"hi\\""', 'say "hi"'),
        ("'a\\\\b'", "a\\b"),
        ("'line\\nbreak\\ttab'", "line\nbreak\ttab"),
        ("'{not a slot}'", "{not a slot}"),
        ("[]", []),
        ("[1, 'two', [3]]", [1, "two", [3]]),
        ("[1, 2,]", [1, 2]),
        ("[x, x + 1]", [5, 6]),
    ],
)
def test_literals(source: str, expected: Any) -> None:
    result = evaluate(source, x=5)
    assert result == expected
    assert type(result) is type(expected)


def test_a_list_literal_is_a_fresh_list_each_time() -> None:
    expression = compile_expression("[1, 2]")
    first = expression.evaluate({})
    first.append(3)
    assert expression.evaluate({}) == [1, 2]


@pytest.mark.parametrize(
    ("source", "names"),
    [
        ("{counter} + 1", {"counter"}),
        ("{ counter } + 1", {"counter"}),
        ("amount > limit and {amount} < 10", {"amount", "limit"}),
        ("_private_1 or x", {"_private_1", "x"}),
        ("true or null or 'text' or 3", set()),
        ("[a, [b, {c}]]", {"a", "b", "c"}),
        ("Amount + amount", {"Amount", "amount"}),
    ],
)
def test_names_are_the_slots_read(source: str, names: set[str]) -> None:
    assert compile_expression(source).names == frozenset(names)


def test_braces_read_the_same_slot_as_a_bare_name() -> None:
    assert evaluate("{counter} + 1", counter=41) == 42
    assert evaluate("{a} and not {b}", a=True, b=False) is True
    assert evaluate("{x} == x", x="same") is True


# --- in -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "slots", "expected"),
    [
        ("2 in [1, 2, 3]", {}, True),
        ("4 in [1, 2, 3]", {}, False),
        ("4 not in [1, 2, 3]", {}, True),
        ("x in ['checking', 'savings']", {"x": "savings"}, True),
        ("x in ['checking', 'savings']", {"x": "Savings"}, False),
        ("x in []", {"x": 1}, False),
        ("'2' in [1, 2]", {}, True),
        ("2 in ['1', '2']", {}, True),
        ("true in [1]", {}, False),
        ("1 in [true]", {}, False),
        ("null in [null]", {}, True),
        ("null in [0, '']", {}, False),
        ("[1] in [[1], [2]]", {}, True),
        ("x in items", {"x": 2, "items": (1, 2)}, True),
        ("x in items", {"x": 2, "items": {1, 2}}, True),
        ("x in items", {"x": "k", "items": {"k": 0}}, True),
        ("x in items", {"x": 1}, False),
        ("x not in items", {"x": 1}, True),
        ("'a' in 'cat'", {}, True),
        ("'at' in 'cat'", {}, True),
        ("'A' in 'cat'", {}, False),
        ("'x' not in 'cat'", {}, True),
        ("'' in 'cat'", {}, True),
        ("x in 'cat'", {}, False),
    ],
)
def test_in(source: str, slots: dict[str, Any], expected: bool) -> None:
    assert compile_expression(source).evaluate(slots) is expected


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("5 in 'abc'", "'in' with text on the right needs text on the left, not a number"),
        ("'a' in 5", "'in' needs a list or text on the right, not a number"),
        ("'a' not in true", "'in' needs a list or text on the right, not a boolean"),
    ],
)
def test_in_with_unsuitable_operands(source: str, message: str) -> None:
    assert evaluation_error(source).message == message


# --- None -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("missing", None),
        ("empty", None),
        ("missing == null", True),
        ("empty == none", True),
        ("missing == empty", True),
        ("missing != null", False),
        ("missing == 0", False),
        ("missing == ''", False),
        ("missing == false", False),
        ("missing != 0", True),
        ("missing < 1", False),
        ("missing <= 1", False),
        ("missing > 1", False),
        ("missing >= 1", False),
        ("1 > missing", False),
        ("'a' < missing", False),
        ("missing <= missing", False),
        ("0 < missing < 2", False),
        ("not missing", True),
        ("missing or 5", 5),
        ("missing and 5", None),
    ],
)
def test_none_semantics(source: str, expected: Any) -> None:
    assert evaluate(source, empty=None) is expected or evaluate(source, empty=None) == expected


@pytest.mark.parametrize(
    ("source", "position", "message"),
    [
        ("counter + 1", 0, "'counter' has no value"),
        ("{counter} + 1", 0, "'counter' has no value"),
        ("1 + counter", 4, "'counter' has no value"),
        ("2 * (1 + counter)", 9, "'counter' has no value"),
        ("-counter", 1, "'counter' has no value"),
        ("null + 1", 5, "cannot add null and a number"),
        ("(counter or null) * 2", 18, "cannot multiply null by a number"),
    ],
)
def test_arithmetic_with_none_names_the_slot(source: str, position: int, message: str) -> None:
    error = evaluation_error(source, counter=None)
    assert (error.position, error.message) == (position, message)


# --- numeric strings and kinds --------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "value", "expected"),
    [
        ("x > 100", "150", True),
        ("x > 100", "50", False),
        ("x > 100", " 150 ", True),
        ("x > 100", "1e3", True),
        ("x > 100", "-150.5", False),
        ("100 < x", "150", True),
        ("x == 100", "100", True),
        ("x == 100", "100.0", True),
        ("x == 100", "abc", False),
        ("x != 100", "100", False),
        ("x != 100", "abc", True),
        ("x == '100'", 100, True),
        ("x == 1", "1,0", False),
        ("x == '10'", "10.0", False),  # two texts compare as text
        ("x < '9'", "10", True),  # ... also when ordered
        ("x == 1", True, False),  # a boolean is not a number
        ("x == 0", False, False),
        ("x == true", True, True),
        ("x == 'true'", True, False),
        ("x == 'A'", "a", False),  # text comparison is case-sensitive
    ],
)
def test_numeric_strings_compare_numerically(source: str, value: Any, expected: bool) -> None:
    assert evaluate(source, x=value) is expected


@pytest.mark.parametrize(
    ("source", "value", "message"),
    [
        ("x > 100", "abc", "cannot compare text with a number using '>'"),
        ("x > 100", "1,000", "cannot compare text with a number using '>'"),
        ("x > 100", "nan", "cannot compare text with a number using '>'"),
        ("x < 5", True, "cannot compare a boolean with a number using '<'"),
        ("x <= x", True, "cannot compare a boolean with a boolean using '<='"),
        ("x >= 1", [1], "cannot compare a list with a number using '>='"),
        (
            "x < '2024-01-02'",
            datetime.date(2024, 1, 1),
            "cannot compare a date with text using '<'",
        ),
        ("x + 1", "5", "cannot add text and a number"),
        ("1 + x", "5", "cannot add a number and text"),
        ("x - 1", "5", "cannot subtract a number from text"),
        ("x * 2", "5", "cannot multiply text by a number"),
        ("'ab' * 3", None, "cannot multiply text by a number"),
        ("x / 2", "5", "cannot divide text by a number"),
        ("x + 1", True, "cannot add a boolean and a number"),
        ("x + [1]", [1], "cannot add a list and a list"),
        ("-x", "5", "cannot apply unary '-' to text"),
        ("+x", True, "cannot apply unary '+' to a boolean"),
    ],
)
def test_type_errors_at_evaluation(source: str, value: Any, message: str) -> None:
    assert evaluation_error(source, x=value).message == message


def test_values_of_one_kind_order_naturally() -> None:
    assert evaluate("'apple' < 'banana'") is True
    assert evaluate("x < y", x=datetime.date(2024, 1, 1), y=datetime.date(2024, 1, 2)) is True
    assert evaluate("[1, 2] < [1, 3]") is True


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (3, 3),
        (2.5, 2.5),
        ("100", 100),
        (" -2.5 ", -2.5),
        ("+7", 7),
        ("1e3", 1000.0),
        (".5", 0.5),
        ("5.", 5.0),
        (True, None),
        (None, None),
        ("", None),
        ("1,000", None),
        ("1_000", None),
        ("nan", None),
        ("inf", None),
        ("0x10", None),
        ("ten", None),
        ([1], None),
    ],
)
def test_numeric_value(value: object, expected: int | float | None) -> None:
    result = numeric_value(value)
    assert result == expected
    assert type(result) is type(expected)


# --- division and limits --------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "position"), [("1 / 0", 2), ("1 // 0", 2), ("1 % 0", 2), ("x + 1 / y", 6)]
)
def test_division_by_zero(source: str, position: int) -> None:
    error = evaluation_error(source, x=1, y=0.0)
    assert (error.position, error.message) == (position, "division by zero")


def test_evaluation_errors_carry_the_source() -> None:
    error = evaluation_error("total / count", total=1, count=0)
    assert error.text == "total / count"
    assert str(error) == "division by zero at position 6 in expression 'total / count'"


@pytest.mark.parametrize(
    ("source", "slots", "message"),
    [
        ("x * x", {"x": 2**3000}, "number is too large"),
        ("x / 3", {"x": 10**400}, "number is too large"),
        ("1e308 * 10", {}, "number is too large"),
        ("x + x", {"x": "y" * 60_000}, "text would be longer than 100000 characters"),
    ],
)
def test_values_cannot_grow_without_bound(source: str, slots: dict[str, Any], message: str) -> None:
    assert evaluation_error(source, **slots).message == message


def test_source_length_limit() -> None:
    longest = "1" + " + 1" * ((MAX_LENGTH - 1) // 4)
    assert len(longest) <= MAX_LENGTH
    assert evaluate(longest) == 1 + (MAX_LENGTH - 1) // 4
    error = compile_error("x" * (MAX_LENGTH + 1))
    assert (error.position, error.message) == (
        MAX_LENGTH,
        "expression is longer than 1000 characters",
    )


@pytest.mark.parametrize(
    ("opening", "closing"),
    [("(", ")"), ("not ", ""), ("-", ""), ("[", "]"), ("(not ", ")")],
)
def test_nesting_limit(opening: str, closing: str) -> None:
    deepest = opening * (MAX_DEPTH // 2 if opening == "(not " else MAX_DEPTH)
    compile_expression(deepest + "1" + closing * (len(deepest) // len(opening)))
    too_deep = opening * (MAX_DEPTH + 1) + "1" + closing * (MAX_DEPTH + 1)
    error = compile_error(too_deep)
    assert error.message == "expression is nested more than 50 levels deep"


def test_deepest_expression_evaluates() -> None:
    source = "(" * MAX_DEPTH + "x" + ")" * MAX_DEPTH
    assert evaluate(source, x=7) == 7
    assert evaluate("not " * MAX_DEPTH + "x", x=True) is True
    assert evaluate("-" * MAX_DEPTH + "x", x=3) == 3


def test_long_flat_chains_are_not_nesting() -> None:
    source = " + ".join(["x"] * 200)
    assert evaluate(source, x=1) == 200
    assert evaluate(" or ".join(["x"] * 150) + " or y", x=False, y="last") == "last"


# --- rejected constructs --------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "position", "message"),
    [
        ("x.__class__", 1, "attribute access is not allowed"),
        ("''.__class__", 2, "attribute access is not allowed"),
        ("1 .real", 2, "attribute access is not allowed"),
        ("a.b()", 1, "attribute access is not allowed"),
        ("x[0]", 1, "subscripts are not allowed"),
        ("x[1:2]", 1, "subscripts are not allowed"),
        ("[1, 2][0]", 6, "subscripts are not allowed"),
        ("open('x')", 4, "function calls are not allowed"),
        ("__import__('os')", 10, "function calls are not allowed"),
        ("(a)(b)", 3, "function calls are not allowed"),
        ("lambda: 1", 0, "lambdas are not allowed"),
        ("lambda x: x", 0, "lambdas are not allowed"),
        ("[x for x in y]", 3, "comprehensions are not allowed"),
        ("2 ** 3", 2, "unknown operator '**'"),
        ("f'{x}'", 0, "f-strings are not allowed"),
        ('F"{x}"', 0, "f-strings are not allowed"),
        ("rf'x'", 0, "f-strings are not allowed"),
        ("b'x'", 0, "string prefixes are not allowed"),
        ("(x := 1)", 3, "assignment (:=) is not allowed"),
        ("import os", 0, "import is not allowed"),
        ("from os import path", 0, "import is not allowed"),
        ("a if b else c", 2, "conditional expressions (if/else) are not allowed"),
        ("x is None", 2, "unknown operator 'is' (use '==' or '!=')"),
        ("x is not None", 2, "unknown operator 'is' (use '==' or '!=')"),
        ("a && b", 2, "unknown operator '&&' (use 'and')"),
        ("a || b", 2, "unknown operator '||' (use 'or')"),
        ("!a", 0, "unknown operator '!' (use 'not')"),
        ("a = 1", 2, "unknown operator '=' (use '==' to compare)"),
        ("a & b", 2, "unknown operator '&'"),
        ("a | b", 2, "unknown operator '|'"),
        ("a ^ b", 2, "unknown operator '^'"),
        ("~a", 0, "unknown operator '~'"),
        ("a << 1", 2, "unknown operator '<<'"),
        ("a @ b", 2, "unknown operator '@'"),
        ("{'a': 1}", 0, "braces hold one slot name, as in '{amount}'"),
        ("{a: 1}", 0, "braces hold one slot name, as in '{amount}'"),
        ("a; b", 1, "unexpected ';'"),
        ("await x", 0, "'await' is a reserved word"),
        ("yield x", 0, "'yield' is a reserved word"),
        ("def f(): pass", 0, "'def' is a reserved word"),
        ("a == not b", 5, "'not' needs parentheses here"),
        ("1, 2", 1, "expected an operator, found ','"),
    ],
)
def test_rejected_constructs(source: str, position: int, message: str) -> None:
    error = compile_error(source)
    assert (error.position, error.message) == (position, message)


@pytest.mark.parametrize(
    ("source", "position", "message"),
    [
        ("", 0, "empty expression"),
        ("   ", 0, "empty expression"),
        ("a +", 3, "unexpected end of expression"),
        ("not", 3, "unexpected end of expression"),
        ("a in", 4, "unexpected end of expression"),
        ("(a", 2, "unexpected end of expression (missing ')')"),
        ("(a + (b)", 8, "unexpected end of expression (missing ')')"),
        ("a)", 1, "unmatched ')'"),
        ("()", 1, "unexpected ')'"),
        ("a b", 2, "expected an operator, found 'b'"),
        ("a b.c", 2, "expected an operator, found 'b'"),
        ("1 +* 2", 3, "unexpected '*'"),
        ("[1 2]", 3, "expected ']', found '2'"),
        ("[1, 2", 5, "unexpected end of expression (missing ']')"),
        ("[,]", 1, "unexpected ','"),
        ("'abc", 0, "unterminated string"),
        ("a + 'abc", 4, "unterminated string"),
        ("'\\q'", 0, "unknown escape '\\q' in text"),
        ("1x", 0, "invalid number '1x'"),
        ("1.5.2", 0, "invalid number '1.5.'"),
        ("1e999", 0, "number 1e999 is too large"),
        ("a not b", 6, "expected 'in' after 'not'"),
        ("{1}", 0, "braces hold one slot name, as in '{amount}'"),
        ("{}", 0, "braces hold one slot name, as in '{amount}'"),
        ("{true}", 1, "'true' is not a slot name"),
        ("{a", 2, "unexpected end of expression (missing '}')"),
        ("{a b}", 3, "expected '}', found 'b'"),
        ("and", 0, "unexpected 'and'"),
        ("a or or", 5, "unexpected 'or'"),
        ("é", 0, "unexpected character 'é'"),
        ("a $ b", 2, "unexpected character '$'"),
    ],
)
def test_syntax_errors(source: str, position: int, message: str) -> None:
    error = compile_error(source)
    assert (error.position, error.message) == (position, message)


def test_the_leftmost_problem_is_reported() -> None:
    assert compile_error("x.y ** 2").message == "attribute access is not allowed"
    assert compile_error("a ** b.c").message == "unknown operator '**'"


def test_expression_error_is_a_value_error_with_context() -> None:
    error = compile_error("2 ** 3")
    assert isinstance(error, SoniError)
    assert isinstance(error, ValueError)
    assert (error.text, error.position) == ("2 ** 3", 2)
    assert str(error) == "unknown operator '**' at position 2 in expression '2 ** 3'"


def test_long_sources_are_shortened_in_the_message_only() -> None:
    source = "x" * 200 + " **"
    error = compile_error(source)
    assert error.text == source
    assert len(str(error)) < 150


# --- the compiled object --------------------------------------------------------------


def test_compilation_is_cached_per_source() -> None:
    source = "cached_slot_xyz + 1"
    assert compile_expression(source) is compile_expression(source)


def test_expression_is_a_frozen_value() -> None:
    expression = compile_expression("a + 1")
    assert isinstance(expression, Expression)
    assert expression.source == "a + 1"
    with pytest.raises(dataclasses.FrozenInstanceError):
        expression.source = "b"  # type: ignore[misc]
    assert "a + 1" in repr(expression)
    assert "lambda" not in repr(expression)


def test_ten_thousand_evaluations_stay_correct() -> None:
    increment = compile_expression("{counter} + 1")
    condition = compile_expression("counter < limit and not (counter % 7 == 0)")
    slots: dict[str, Any] = {"counter": 0, "limit": 9_000}
    passing = 0
    for _ in range(10_000):
        passing += condition.evaluate(slots) is True
        slots["counter"] = increment.evaluate(slots)
    assert slots["counter"] == 10_000
    assert passing == sum(1 for n in range(9_000) if n % 7)


# --- property: boolean formulas agree with Python -------------------------------------

SLOT_NAMES = ("a", "b", "c", "d")


@st.composite
def boolean_formulas(draw: st.DrawFn, depth: int = 5) -> str:
    """Random formulas over boolean slots, written so Python parses them the same way."""
    if depth == 0 or draw(st.integers(0, 3)) == 0:
        return draw(st.sampled_from([*SLOT_NAMES, "True", "False"]))
    shape = draw(st.sampled_from(["and", "or", "not", "()", "==", "!="]))
    if shape == "not":
        return f"not {draw(boolean_formulas(depth - 1))}"
    if shape == "()":
        return f"({draw(boolean_formulas(depth - 1))})"
    left, right = draw(boolean_formulas(depth - 1)), draw(boolean_formulas(depth - 1))
    if shape in ("==", "!=") and right.startswith("not "):
        right = f"({right})"  # `a == not b` is a syntax error in Python and here
    return f"{left} {shape} {right}"


@settings(max_examples=300, database=None, deadline=None)
@given(
    boolean_formulas(),
    st.fixed_dictionaries({name: st.booleans() for name in SLOT_NAMES}),
)
@pytest.mark.slow  # hundreds of generated examples
def test_boolean_formulas_agree_with_python(formula: str, slots: dict[str, bool]) -> None:
    # Python's own evaluator is the oracle; the formula is generated here, never user input.
    expected = eval(formula, {"__builtins__": {}}, dict(slots))
    assert compile_expression(formula).evaluate(slots) is expected


FRAGMENTS = [
    *SLOT_NAMES, "x", "{a}", "1", "0", "2.5", "-", "+", "*", "/", "//", "%", "==", "!=",
    "<", "<=", ">", ">=", "in", "not", "and", "or", "(", ")", "[", "]", ",", "'t'", '"1"',
    "true", "null", "**", ".", "{", "}", ":", "=", "lambda", "é", "'",
]  # fmt: skip
SLOT_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=5),
    st.lists(st.integers(), max_size=3),
)


@settings(max_examples=500, database=None, deadline=None)
@given(
    st.lists(st.sampled_from(FRAGMENTS), max_size=25).map(" ".join),
    st.fixed_dictionaries({name: SLOT_VALUES for name in (*SLOT_NAMES, "x")}),
)
@pytest.mark.slow  # hundreds of generated examples
def test_any_input_compiles_and_evaluates_or_raises_expression_error(
    source: str, slots: dict[str, Any]
) -> None:
    try:
        expression = compile_expression(source)
    except ExpressionError as error:
        assert 0 <= error.position <= len(source)
        return
    try:
        expression.evaluate(slots)
    except ExpressionError as error:
        assert error.text == source
        assert 0 <= error.position < len(source)
