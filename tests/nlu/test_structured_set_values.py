"""``/set`` with a value of several words: quoted, it is one value; unquoted, the error
says to quote it (it used to say only "expected slot=value")."""

from __future__ import annotations

import pytest

from soni.nlu import SetSlot, parse_structured
from soni.nlu.errors import StructuredMessageError


def test_a_quoted_value_with_spaces_is_one_value() -> None:
    assert parse_structured('/set card_holder="Laura Gomez"') == [
        SetSlot("card_holder", "Laura Gomez")
    ]


def test_an_unquoted_value_with_spaces_says_to_quote_it() -> None:
    with pytest.raises(StructuredMessageError, match=r'quote a value with spaces: /set name="Jo'):
        parse_structured("/set refund_method=store credit")


def test_a_part_without_a_value_still_shows_the_form() -> None:
    with pytest.raises(StructuredMessageError, match=r"e\.g\. /set amount=50"):
        parse_structured("/set amount")
