"""The error a test author sees: mistakes in conversation test files."""

from __future__ import annotations

from collections.abc import Sequence

from soni.dsl.errors import ConfigError, ConfigErrors

__all__ = ("ConversationTestErrors",)


class ConversationTestErrors(ConfigErrors):
    """Every mistake found in conversation test files, raised together.

    A ``ConfigErrors`` (each error has the file, line and column), about test files
    rather than the bot: a malformed file, or a test naming an action, slot or flow
    the bot does not have.
    """

    def __init__(self, errors: Sequence[ConfigError]) -> None:
        super().__init__(errors)
        count = len(self.errors)
        header = f"{count} error{'' if count == 1 else 's'} in the conversation tests:"
        self.args = ("\n".join([header, *(f"  {error}" for error in self.errors)]),)
