"""The expression front end on Python's parser: the whitelist, braces, layout, deep input."""

from __future__ import annotations

from typing import Any

import pytest

from soni.dsl import expressions
from soni.dsl.errors import ExpressionError
from soni.dsl.expressions import MAX_DEPTH, MAX_LENGTH, compile_expression

TOO_DEEP = f"expression is nested more than {MAX_DEPTH} levels deep"
BRACES = "braces hold one slot name, as in '{amount}'"


def evaluate(source: str, **slots: Any) -> Any:
    return compile_expression(source).evaluate(slots)


def compile_error(source: str) -> ExpressionError:
    with pytest.raises(ExpressionError) as caught:
        compile_expression(source)
    return caught.value


# --- the whitelist --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "position", "message"),
    [
        # calls, attributes, subscripts
        ("len(x)", 3, "function calls are not allowed"),
        ("f(*a)", 1, "function calls are not allowed"),
        ("{a}.b", 3, "attribute access is not allowed"),
        ("(x).real", 3, "attribute access is not allowed"),
        ("x [0]", 2, "subscripts are not allowed"),
        # operators Python has and the language does not
        ("a**b", 1, "unknown operator '**'"),
        ("(a) ** b", 4, "unknown operator '**'"),
        ("a >> 1", 2, "unknown operator '>>'"),
        ("~ a", 0, "unknown operator '~'"),
        ("- ~a", 2, "unknown operator '~'"),
        ("a IS b", 2, "unknown operator 'is' (use '==' or '!=')"),
        # words, in any case
        ("LAMBDA: 1", 0, "lambdas are not allowed"),
        ("{x for x in y}", 3, "comprehensions are not allowed"),
        ("{k: v for k in y}", 6, "comprehensions are not allowed"),
        ("(x for x in y)", 3, "comprehensions are not allowed"),
        ("a If b Else c", 2, "conditional expressions (if/else) are not allowed"),
        ("(yield x)", 1, "'yield' is a reserved word"),
        ("Class", 0, "'class' is a reserved word"),
        ("{await}", 1, "'await' is a reserved word"),
        ("{def}", 1, "'def' is a reserved word"),
        # text and numbers only in the language's own forms
        ("x + f'{y}'", 4, "f-strings are not allowed"),
        ("FR'x'", 0, "f-strings are not allowed"),
        ("B'x'", 0, "string prefixes are not allowed"),
        ("u'x'", 0, "string prefixes are not allowed"),
        ("r'x'", 0, "string prefixes are not allowed"),
        ("'''x'''", 0, "triple quotes are not allowed"),
        ("'a' 'b'", 4, "expected an operator, found \"'b'\""),
        ("['a' 'b']", 5, "expected ']', found \"'b'\""),
        ("1j", 0, "invalid number '1j'"),
        ("2 + 3J", 4, "invalid number '3J'"),
        ("0x10", 0, "invalid number '0x'"),
        ("0o7", 0, "invalid number '0o'"),
        ("1_000", 0, "invalid number '1_'"),
        ("1.", 0, "invalid number '1.'"),
        ("1in [1]", 0, "invalid number '1i'"),
        ("...", 0, "unexpected '...'"),
        # other symbols
        ("x := 1", 2, "assignment (:=) is not allowed"),
        ("[*a]", 1, "unpacking with '*' is not allowed"),
        ("(1,)", 2, "expected an operator, found ','"),
        ("x # a comment", 2, "unexpected character '#'"),
        ("x \\\n+ 1", 2, "unexpected character '\\\\'"),
        ("x ? y", 2, "unexpected character '?'"),
        ("`x`", 0, "unexpected character '`'"),
        ("x\x01", 1, "unexpected character '\\x01'"),
        ("'a\x00b'", 2, "unexpected character '\\x00'"),
        ("a ! b", 2, "unknown operator '!' (use 'not')"),
        ("a & & b", 4, "unknown operator '&'"),
        ("a *= 2", 2, "unexpected '*='"),
    ],
)
def test_constructs_outside_the_whitelist(source: str, position: int, message: str) -> None:
    error = compile_error(source)
    assert (error.position, error.message) == (position, message)


@pytest.mark.parametrize(
    "source",
    ["a.b", "a[0]", "a(0)", "a ** 2", "a & 1", "a | 1", "a ^ 1", "a << 1", "a @ b", "~a",
     "a is None", "lambda: a", "[a for a in b]", "f'{a}'", "b'a'", "(a := 1)",
     "a if b else c", "[*a]", "{a, b}", "{a: b}", "{}", "1j", "(a, b)", "..."],
)  # fmt: skip
def test_every_rejection_happens_at_compile_time(source: str) -> None:
    assert compile_error(source).text == source


# --- braces ---------------------------------------------------------------------------


@pytest.mark.parametrize("source", ["{amount}", "{ amount }", "{\namount\n}"])
def test_braces_around_one_name_read_a_slot(source: str) -> None:
    expression = compile_expression(source)
    assert expression.names == frozenset({"amount"})
    assert expression.evaluate({"amount": 7}) == 7


@pytest.mark.parametrize(
    ("source", "position", "message"),
    [
        ("{a, b}", 0, BRACES),
        ("{a,}", 0, BRACES),
        ("x + {a: 1}", 4, BRACES),
        ("{'a'}", 0, BRACES),
        ("{True}", 0, BRACES),
        ("{*a}", 0, BRACES),
        ("{**a}", 0, BRACES),
        ("{{a}}", 0, BRACES),
        ("{(a)}", 0, BRACES),
        ("{None}", 0, BRACES),
        ("{null}", 1, "'null' is not a slot name"),
        ("{FALSE}", 1, "'FALSE' is not a slot name"),
        ("{and}", 1, "unexpected 'and'"),
        ("{not}", 4, "unexpected '}'"),
    ],
)
def test_braces_hold_exactly_one_slot_name(source: str, position: int, message: str) -> None:
    error = compile_error(source)
    assert (error.position, error.message) == (position, message)


def test_a_slot_in_braces_names_the_brace_in_errors() -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_expression("1 + { counter }").evaluate({})
    assert (caught.value.position, caught.value.message) == (4, "'counter' has no value")


# --- words, text and layout -----------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("x IN [1, 2] AND NOT y", True),
        ("x Not In [3] Or y", True),
        ("'AND' == 'AND'", True),  # never rewritten inside text
        ("'not in' + \"OR\"", "not inOR"),
        ("match + case + type + _", 10),  # Python's soft keywords are plain names
    ],
)
def test_operator_words_in_any_case(source: str, expected: Any) -> None:
    assert evaluate(source, x=1, y=False, match=1, case=2, type=3, _=4) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("amount > 100 and\n  account in ['checking',\n    'savings']\n", True),
        ("\n  amount\n", 150),
        ("\tamount\u00a0>\u2003100", True),
        ("amount\r\n> 100", True),
        ("'a\nb'", "a\nb"),  # a line break inside quotes stays in the text
        ("'a\tb\u00a0c'", "a\tb\u00a0c"),
        ("007 + 1", 8),
        ("00", 0),
    ],
)
def test_layout_and_literal_forms(source: str, expected: Any) -> None:
    assert evaluate(source, amount=150, account="savings") == expected


@pytest.mark.parametrize(
    ("source", "slots", "position", "message"),
    [
        ("'é' + x", {}, 6, "'x' has no value"),
        ("'ü€😀' + 1", {}, 6, "cannot add text and a number"),
        ("'é' < x", {"x": 1}, 4, "cannot compare text with a number using '<'"),
    ],
)
def test_positions_count_characters_not_bytes(
    source: str, slots: dict[str, Any], position: int, message: str
) -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_expression(source).evaluate(slots)
    assert (caught.value.position, caught.value.message) == (position, message)


@pytest.mark.parametrize(
    ("source", "position", "message"),
    [
        ("'é' 1", 4, "expected an operator, found '1'"),
        ("'é' + é", 6, "unexpected character 'é'"),
        ("  a b", 4, "expected an operator, found 'b'"),
        ("(a b c)", 3, "expected ')', found 'b'"),
        ("a not", 5, "unexpected end of expression"),
        ("a + not b", 4, "'not' needs parentheses here"),
        ("(]", 1, "expected ')', found ']'"),
        ("rb'abc", 2, "unterminated string"),
        ("x == 'a", 5, "unterminated string"),
    ],
)
def test_syntax_error_positions(source: str, position: int, message: str) -> None:
    error = compile_error(source)
    assert (error.position, error.message) == (position, message)


# --- deep input -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "position"),
    [
        ("-" * 999 + "1", MAX_DEPTH),
        ("+" * 999 + "1", MAX_DEPTH),
        ("not " * 249 + "x", 4 * MAX_DEPTH),
        ("(" * 499 + "1" + ")" * 499, MAX_DEPTH),
        ("[" * 499 + "]" * 499, MAX_DEPTH),
        ("{" * 499 + "a" + "}" * 499, MAX_DEPTH),
        ("(" * 999, MAX_DEPTH),
        ("- (" * 250, 3 * MAX_DEPTH + 2),  # the fifty-first bracket
    ],
)
def test_deep_sources_within_the_length_limit(source: str, position: int) -> None:
    assert len(source) <= MAX_LENGTH
    error = compile_error(source)
    assert (error.position, error.message) == (position, TOO_DEEP)


@pytest.mark.parametrize(
    "source",
    [
        "(" * 10_000 + "1" + ")" * 10_000,
        "not " * 10_000 + "x",
        "-" * 100_000 + "1",
        "~" * 100_000 + "1",
        "[" * 10_000 + "]" * 10_000,
        "a" + ".b" * 50_000,
        "x" + " + x" * 50_000,
    ],
)
@pytest.mark.slow  # sources thousands of levels deep
def test_deep_sources_never_exhaust_the_stack(source: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(compile_error(source), ExpressionError)  # too long
    monkeypatch.setattr(expressions, "MAX_LENGTH", 1_000_000)
    error = compile_error(source)  # and, without the length limit, too deep
    assert error.message == TOO_DEEP


def test_brackets_and_operators_are_counted_apart() -> None:
    # Brackets nest as brackets, operators as operators; either may go fifty deep.
    source = "(-" * MAX_DEPTH + "x" + ")" * MAX_DEPTH
    assert evaluate(source, x=1) == 1
    assert evaluate("-(" * MAX_DEPTH + "x" + ")" * MAX_DEPTH, x=1) == 1


def test_long_flat_chains_are_one_level() -> None:
    assert evaluate(" - ".join(["x"] * 250), x=1) == -248
    assert evaluate(" == ".join(["x"] * 200), x=1) is True
    assert evaluate(" * ".join(["x"] * 200) + " % 7", x=1) == 1
