"""Finding the slot names a template or an expression refers to.

Used by the cross-reference checks; the engine has its own, full parsers. These are
deliberately lenient: they extract names, they do not decide whether a text is
well-formed, so a check built on them never rejects a bot the engine would run.
"""

from __future__ import annotations

import io
import keyword
import re
import tokenize

__all__ = ("LITERAL_WORDS", "expression_names", "template_names")

LITERAL_WORDS = frozenset({"true", "false", "null", "none", "and", "or", "not", "in"})
"""Words of the expression language that are never slot names (any letter case)."""

# ``{name}``, also ``{name:.2f}`` / ``{name.attr}``: the slot is the leading identifier.
_PLACEHOLDER = re.compile(r"\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:[.:!\[][^{}]*)?\}")
_BRACED_NAME = re.compile(r"\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}")


def template_names(text: str) -> list[str]:
    """The slots a message template mentions, in order, without repeats.

    ``{{`` and ``}}`` are literal braces, as in Python's ``str.format``.
    """
    unescaped = text.replace("{{", "  ").replace("}}", "  ")
    return list(dict.fromkeys(_PLACEHOLDER.findall(unescaped)))


def expression_names(text: str) -> list[str]:
    """The slots an expression mentions, bare (``amount``) or braced (``{amount}``).

    Quoted texts, numbers, the language's words (``and``, ``true``, ``null``, ...),
    Python keywords, attribute names (``x.y``) and called names (``f(x)``) are not
    slot names.

    Raises:
        ValueError: an unterminated quote, which would make the rest unreadable.
    """
    source = _BRACED_NAME.sub(r" \1 ", text).replace("\r", " ").replace("\n", " ")
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source.strip()).readline))
    except tokenize.TokenError:
        raise ValueError("cannot read the expression: a bracket is not closed") from None
    except SyntaxError as exc:  # pragma: no cover - the source is one stripped line
        raise ValueError(f"cannot read the expression: {exc.msg}") from None
    names: list[str] = []
    for index, token in enumerate(tokens):
        if token.type == tokenize.ERRORTOKEN and token.string.strip() in ("'", '"'):
            raise ValueError("cannot read the expression: a quoted text is not closed")
        if token.type != tokenize.NAME:
            continue
        word = token.string
        if word.lower() in LITERAL_WORDS or keyword.iskeyword(word):
            continue
        previous = tokens[index - 1].string if index else ""
        following = tokens[index + 1].string if index + 1 < len(tokens) else ""
        if previous == "." or following == "(":
            continue
        names.append(word)
    return list(dict.fromkeys(names))
