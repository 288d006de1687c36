"""The loop behind ``soni chat``: read a line, answer it, show what the bot said.

It works on any iterable of lines, so a test (or a script piping stdin) drives it
just as a person at a terminal does.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from soni.dsl.templates import format_value
from soni.errors import SoniError

if TYPE_CHECKING:
    from soni.engine import PendingView, SyncBot, TurnResult

__all__ = ("ChatSession", "read_lines")

YOU = "you> "
BOT = "bot> "
SKIP_KEY = "n"
APPROVE_KEY = "y"

HELP = """\
Type a message and press Enter. Commands:
  /state    the active flow, its slots and the pending confirmations
  /reset    forget this conversation and start over
  /help     this text (ask the bot for its own help with "help")
  /quit     leave (Ctrl-D and Ctrl-C too)
While a confirmation waits, its keys decide it: [y] approve, [1] [2] ... choose an
option, [n] skip. "yes" and "no" work too, as ordinary messages.
Any other text starting with / goes to the bot as a structured message:
  /check_balance   /transfer_funds{"amount": 50}   /set amount=50   /choose archive_file"""

_STYLES = {"error": "red", "confirmation": "bold yellow"}


def read_lines(prompt: str = YOU) -> Iterator[str]:
    """The user's lines: prompted at a terminal, read plainly from a pipe."""
    if sys.stdin.isatty():
        while True:
            try:
                yield input(prompt)
            except EOFError:  # Ctrl-D: end the prompt's line
                print()
                return
    else:
        for line in sys.stdin:
            yield line.rstrip("\r\n")


class ChatSession:
    """One conversation with a bot, driven line by line.

    Args:
        bot: The bot, through its blocking facade.
        conversation_id: The conversation to talk in (it may already exist).
        user_id: Who the messages come from; also the actor of key decisions.
        console: Where to print.
        echo: Whether to print each line read (when stdin is not a terminal, so
            a transcript shows both sides).
    """

    def __init__(
        self,
        bot: SyncBot,
        conversation_id: str,
        *,
        user_id: str,
        console: Console,
        echo: bool = False,
    ) -> None:
        self.bot = bot
        self.conversation_id = conversation_id
        self.user_id = user_id
        self.console = console
        self.echo = echo
        self.pending: list[PendingView] = []

    def run(self, lines: Iterable[str], *, title: str = "") -> None:
        """Greet, then answer each line until ``/quit``, the end of input or Ctrl-C."""
        try:
            self.start(title)
            for line in lines:
                if not self.send(line):
                    return
        except KeyboardInterrupt:
            self.console.print()

    def start(self, title: str = "") -> None:
        """Say where we are; a conversation that exists already carries on."""
        name = f"{title}: " if title else ""
        self.console.print(
            Text(
                f"soni chat {name}conversation {self.conversation_id}, user {self.user_id}. "
                "/help for commands, /quit to leave.",
                style="dim",
            )
        )
        state = self.bot.state(self.conversation_id)
        stack = state.get("stack") or []
        if stack:
            self.console.print(Text(f"Continuing: flow {stack[-1]['flow']}.", style="dim"))
        self.pending = self.bot.pending(self.conversation_id)
        self._show_pending(shown=())

    def send(self, line: str) -> bool:
        """Answer one line; ``False`` once the user asked to leave."""
        text = line.strip()
        if self.echo:
            self.console.print(Text(YOU + line))
        if not text:
            return True
        command = text.lower()
        if command in ("/quit", "/exit"):
            return False
        if command == "/help":
            self.console.print(Text(HELP))
        elif command == "/state":
            self.show_state()
        elif command == "/reset":
            self.bot.reset(self.conversation_id)
            self.pending = []
            self.console.print(Text("The conversation was reset.", style="dim"))
        elif (decision := self._keys().get(command)) is not None:
            self._decide(*decision)
        else:
            self._show(self.bot.handle(self.conversation_id, text, user_id=self.user_id))
        return True

    # -- confirmations ------------------------------------------------------------------

    def _keyed(self) -> PendingView | None:
        """The confirmation the keys decide: the first one whose token this process knows."""
        return next((view for view in self.pending if view.token is not None), None)

    def _keys(self) -> dict[str, tuple[str, str]]:
        """Key → (token, decision) for the keyed confirmation, if any."""
        view = self._keyed()
        if view is None or view.token is None:
            return {}
        if len(view.options) == 1:
            return {APPROVE_KEY: (view.token, "approve"), SKIP_KEY: (view.token, "skip")}
        keys = {str(i): (view.token, option) for i, option in enumerate(view.options, 1)}
        return {**keys, SKIP_KEY: (view.token, "skip")}

    def _decide(self, token: str, decision: str) -> None:
        try:
            result = self.bot.decide(token, decision, actor=self.user_id, channel="cli")
        except SoniError as exc:  # expired, decided elsewhere meanwhile, ...
            self.console.print(Text(f"error: {exc}", style="red"))
            self.pending = self.bot.pending(self.conversation_id)
            self._show_pending(shown=())
            return
        self._show(result)

    def _show(self, result: TurnResult) -> None:
        if not result.replies:
            self.console.print(Text(BOT + "(no reply)", style="dim"))
        for reply in result.replies:
            self.console.print(Text(BOT + reply.text, style=_STYLES.get(reply.kind, "")))
        self.pending = list(result.pending)
        self._show_pending(shown=result.texts)

    def _show_pending(self, shown: Iterable[str]) -> None:
        keyed = self._keyed()
        already = set(shown)
        indent = " " * len(BOT)
        for view in self.pending:
            if view.prompt not in already:
                self.console.print(Text(BOT + view.prompt, style=_STYLES["confirmation"]))
            if view is keyed:
                self.console.print(Text(indent + _key_line(view), style="cyan"))
            elif len(view.options) == 1:
                # Issued by an earlier run: only the chat can answer it now.
                self.console.print(Text(indent + "(answer yes or no)", style="dim"))
            else:
                hint = f"(answer with one of {', '.join(view.options)}, or no)"
                self.console.print(Text(indent + hint, style="dim"))

    # -- /state ------------------------------------------------------------------------

    def show_state(self) -> None:
        state = self.bot.state(self.conversation_id)
        if not state:
            self.console.print(
                Text(f"Conversation {self.conversation_id} has no state yet.", style="dim")
            )
            return
        self.console.print(_state_table(self.conversation_id, state))
        pending = self.bot.pending(self.conversation_id)
        if pending:
            self.console.print(_pending_table(pending))


def _key_line(view: PendingView) -> str:
    if len(view.options) == 1:
        return f"[{APPROVE_KEY}] approve  [{SKIP_KEY}] skip"
    offered = [
        f"[{i}] {label or option}"
        for i, (option, label) in enumerate(zip(view.options, view.labels, strict=False), 1)
    ]
    return "  ".join([*offered, f"[{SKIP_KEY}] skip"])


def _state_table(conversation_id: str, state: dict[str, Any]) -> Table:
    # Every cell a Text: ids, slot values and the rest are data, never rich markup.
    table = Table(
        title=Text(f"conversation {conversation_id}"), title_justify="left", show_header=False
    )
    table.add_column(style="bold")
    table.add_column()
    stack = state.get("stack") or []
    table.add_row("active flow", Text(str(stack[-1]["flow"]) if stack else "-"))
    if len(stack) > 1:
        table.add_row("flow stack", Text(" > ".join(str(frame["flow"]) for frame in stack)))
    table.add_row("waiting for", Text(_waiting(state.get("waiting"))))
    slots = state.get("slots") or {}
    for name, value in sorted(slots.items()):
        table.add_row(Text(f"slot {name}"), Text(readable(value)))
    if not slots:
        table.add_row("slots", "-")
    return table


def readable(value: Any) -> str:
    """A slot value as JSON writes it, dates and times as their ISO text: "Bob" (text is
    quoted, so "50" is told from 50), 50, 2026-12-08, 14:30, true, null."""
    if isinstance(value, dt.date | dt.time | float):  # 50.0 is 50, 0.1 + 0.2 is 0.3
        return format_value(value)
    return json.dumps(value, ensure_ascii=False, default=format_value)


def _waiting(waiting: dict[str, Any] | None) -> str:
    if not waiting:
        return "-"
    if waiting.get("kind") == "slot":
        return f"slot {waiting.get('slot')}"
    if waiting.get("kind") == "confirmation":
        return f"confirmation {waiting.get('confirmation')}"
    return str(waiting.get("kind"))


def _pending_table(pending: list[PendingView]) -> Table:
    table = Table(title="pending confirmations", title_justify="left")
    for column in ("prompt", "options", "expires"):
        table.add_column(column)
    for view in pending:
        table.add_row(
            Text(view.prompt),
            Text(", ".join(view.options)),
            Text(view.expires_at.strftime("%H:%M:%S UTC")),
        )
    return table
