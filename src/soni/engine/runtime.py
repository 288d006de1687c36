"""The runtime API: ``Bot.load``, ``handle``, ``decide`` — one turn at a time per conversation."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast, get_args

from langchain_core.runnables import RunnableConfig
from langgraph.errors import GraphRecursionError
from langgraph.types import Command

from soni.actions import ActionRegistry
from soni.actions.validators import default_validators
from soni.confirmations import (
    Actor,
    ConfirmationEvent,
    ConfirmationRegistry,
    ExpirySweeper,
    PendingConfirmation,
)
from soni.confirmations.secret import (
    load_or_create_secret,
    parse_secret,
    secret_file_for,
    secret_from_env,
)
from soni.dsl.models import BotConfig
from soni.engine.check import called_actions, load_config
from soni.engine.core import Engine
from soni.engine.events import (
    ActionOutcome,
    ActionRan,
    BotEvents,
    ConfirmationChanged,
    ConversationReset,
    TurnCompleted,
)
from soni.engine.graph import MAX_STEPS_PER_TURN, RECURSION_LIMIT, build_graph
from soni.engine.results import PendingView, ReplyView, TurnResult
from soni.engine.state import ConversationState
from soni.engine.turn import Turn
from soni.nlu.protocol import MAX_MESSAGE_CHARS, Understanding
from soni.nlu.rules import RulesSettings, RulesUnderstanding
from soni.storage import Notice, Storage, announce_confirmations, is_postgres_url, open_storage
from soni.wire import TurnStatus

if TYPE_CHECKING:
    from soni.engine.sync import SyncBot

__all__ = ("Bot", "PendingView", "ReplyView", "TurnResult")

logger = logging.getLogger("soni.engine")

_KNOWN_CACHE = 100_000
# Seconds a conversation's shortcut outlives its last turn: the server's default
# idle clean-up (``idle_ttl``), after which its session is gone too.
_KNOWN_FOR = 3600.0
SWEEP_INTERVAL = 5.0


def _waits_for(state: Mapping[str, Any], confirmation_id: str) -> bool:
    """Whether a flow of the conversation still waits on that confirmation."""
    return any(
        isinstance(frame, Mapping) and frame.get("confirmation") == confirmation_id
        for frame in state.get("stack") or []
    )


class Bot:
    """A loaded bot serving conversations.

    Its public surface: ``handle``, ``decide``, ``pending``, ``state``, ``reset``;
    ``confirmations`` (the ``ConfirmationRegistry``), ``actions`` (the
    ``ActionRegistry``) and ``events`` (one stream of turns, resets, confirmation
    changes and action runs, from every process: ``soni.engine.events``). Other
    packages use these, never ``engine``.

    A Bot belongs to the event loop it was loaded on.
    """

    def __init__(
        self,
        engine: Engine,
        storage: Storage,
        *,
        interrupted: Sequence[PendingConfirmation] = (),
    ) -> None:
        self.engine = engine
        self.storage = storage
        # Runs a dead process left without an outcome, found when this bot started
        # (``load``): counted by whoever watches it from then on (metrics).
        self.interrupted_at_start = tuple(interrupted)
        self.graph = build_graph(engine).compile(checkpointer=storage.checkpointer)
        self._loop = asyncio.get_running_loop()
        # Expiries are enforced at decision time anyway; sweeping records them
        # (events, listings) and frees the tokens of abandoned confirmations.
        self._sweeper = ExpirySweeper(
            engine.confirmations, interval=SWEEP_INTERVAL, maintain=self._maintain
        )
        self._sweeper.start()
        self._sync: Any = None
        # Whether a conversation is paused at the wait node or idle (its last run
        # ended), so a turn need not read the checkpoint first, and when this Bot
        # last ran a turn of it; bounded in size and in time, since it is only a
        # shortcut. Least recently run first.
        self._known: OrderedDict[str, tuple[str, float]] = OrderedDict()
        # What a decision made elsewhere (a link, a client) answered, for the chat's
        # next message: its user did not see it (see ``decide``).
        self._recaps: OrderedDict[str, list[str]] = OrderedDict()
        # What happens to the bot, from this process and the others sharing its
        # database: turns, resets, confirmations, action runs (``soni.engine.events``).
        self.events = BotEvents()
        engine.action_ran = self._action_ran
        self._detach: list[Callable[[], None]] = [
            engine.confirmations.subscribe(self._confirmation_changed)
        ]
        if storage.shared:
            # Other processes serve this bot too: tell them what happens here, and
            # hear what happens there.
            self._detach.append(announce_confirmations(storage, engine.confirmations))
            self._detach.append(storage.subscribe(self._heard))

    @classmethod
    async def load(
        cls,
        path: str | Path,
        *,
        db: str | Path | None = None,
        actions: str | Sequence[str] | None = None,
        understanding: Understanding | None = None,
        registry: ActionRegistry | None = None,
        secret: str | bytes | None = None,
        variant_seed: int = 0,
        local_actions: bool = True,
        remote_actions: bool = False,
    ) -> Bot:
        """Load a bot folder or file, its handlers, and open its state.

        Args:
            path: The bot: a YAML file or a folder of them.
            db: A SQLite file for conversation state and confirmations, or
                ``":memory:"``; by default the bot's ``settings.persistence``.
            actions: Modules (files, folders, dotted names) with handlers; by
                default the bot folder's ``actions.py``, ``handlers.py`` or
                ``actions/`` package.
            understanding: Turns text into commands; by default the one the bot's
                ``settings.nlu`` names (the offline rules unless it says ``llm``).
            registry: The ActionRegistry to use; a new one (over the global map)
                by default.
            secret: What confirmation tokens are derived under, so that any process
                with it shows a pending confirmation's token again (at least 32
                characters). By default ``SONI_SECRET``; failing that, for a SQLite
                file, a secret kept beside it (``state.secret``, created once); for
                PostgreSQL a random one for this process alone — set ``SONI_SECRET``
                when several processes serve the bot.
            variant_seed: Which of a message's variants each turn says is a hash of
                the conversation, the turn and this number: the same in every run, so
                a test may pin it; another number, other choices.
            local_actions: Whether to import the bot folder's handler modules; off,
                its actions run in action workers (docs/workers.md).
            remote_actions: Whether actions without a handler here are allowed, to be
                served by action workers that announce them (``soni serve`` does).

        Raises:
            ConfigErrors: the bot has errors (all of them are listed).
            ActionLoadError: a handler module failed to import.
        """
        root = Path(path)
        registry = registry or ActionRegistry()
        # Validate, then build: every reference — handlers, validators, the syntax of
        # expressions, templates and case patterns — is checked before anything runs.
        config = load_config(
            root,
            actions=actions,
            registry=registry,
            understanding=understanding is None,
            local_actions=local_actions,
            remote_actions=remote_actions,
        )
        location = str(db) if db is not None else _default_db(config, root)
        storage = await open_storage(location, secret=_secret_for(location, secret))
        # The registry's runner is the storage's: on a shared database, other
        # processes can tell whether this one is alive.
        confirmations = ConfirmationRegistry(
            storage.confirmations,
            default_ttl=config.settings.confirmations.ttl,
            runner=storage.runner,
            secret=storage.secret,
        )
        # Runs that a process now dead claimed but never finished: their outcome
        # is unknown, and says so from now on (to the user, to `soni confirmations`).
        try:
            interrupted = await confirmations.recover()
        except BaseException:
            # Nothing will close them otherwise: the stores, the runner's lock.
            await storage.close()
            raise
        if interrupted:
            logger.warning(
                "%d action run(s) were interrupted by a crash; their outcome is unknown: %s",
                len(interrupted),
                ", ".join(record.id for record in interrupted),
            )
        engine = Engine(
            config=config,
            actions=registry,
            confirmations=confirmations,
            understanding=understanding or _understanding_for(config),
            validators=default_validators(),
            journal=storage.journal,
            variant_seed=variant_seed,
        )
        return cls(engine, storage, interrupted=interrupted)

    @property
    def confirmations(self) -> ConfirmationRegistry:
        """The bot's confirmations: read, decide, wait for and watch them."""
        return self.engine.confirmations

    @property
    def wiring_problems(self) -> tuple[str, ...]:
        """Wiring mistakes seen at run time, in order, each once: a handler that did
        not return an output its action declares, or returned a key nothing takes
        (logged on ``soni.wiring`` when first seen; ``soni test`` fails on them)."""
        return tuple(self.engine.wiring)

    @property
    def timezone(self) -> str | None:
        """The bot's ``settings.timezone`` (IANA), or ``None``: the machine's."""
        return self.engine.config.settings.timezone

    @property
    def actions(self) -> ActionRegistry:
        """The bot's action handlers, by name."""
        return self.engine.actions

    def unserved_actions(self) -> list[str]:
        """The actions the flows call that no handler serves now (none here, and no
        action worker announced them), sorted."""
        registry = self.engine.actions
        return [name for name in called_actions(self.engine.config) if name not in registry]

    @property
    def sync(self) -> SyncBot:
        """Blocking versions of this bot's methods, for other threads.

        The bot's event loop must be running in another thread: a bot made by
        ``SyncBot.load`` (or ``Bot.load_sync``), or one served by an async server
        while synchronous code calls it.
        """
        from soni.engine.sync import SyncBot

        if self._sync is None:
            self._sync = SyncBot(self, self._loop)
        return self._sync  # type: ignore[no-any-return]

    @classmethod
    def load_sync(cls, path: str | Path, **options: Any) -> Bot:
        """Load a bot on its own event-loop thread; use it through ``bot.sync``."""
        from soni.engine.sync import SyncBot

        return SyncBot.load(path, **options).bot

    async def wait_for_actions(self, timeout: float | None = None) -> bool:
        """Wait until the action runs under way have ended and recorded their outcome.

        A turn that was cancelled while its action ran (its client went away, a
        timeout around ``handle``) does not stop the action: it goes on, and its
        outcome is recorded when it ends. This waits for those, and for the runs of
        turns still in progress.

        Returns:
            Whether all had ended (``False``: ``timeout`` passed first).
        """
        runs = set(self.engine.runs.values())
        if not runs:
            return True
        _, pending = await asyncio.wait(runs, timeout=timeout)
        return not pending

    async def aclose(self, *, actions_timeout: float = 10.0) -> None:
        """Close the state database and the confirmation store.

        Action runs still under way get up to ``actions_timeout`` seconds to end and
        record their outcome first; one still running then is told as interrupted
        by the next process on this database.
        """
        if not await self.wait_for_actions(actions_timeout):
            logger.warning(
                "closing with %d action run(s) still under way: their outcome will be unknown",
                len(self.engine.runs),
            )
        await self._sweeper.stop()
        for detach in self._detach:
            detach()
        self._detach.clear()
        await self.engine.confirmations.aclose()
        closing = getattr(self.engine.understanding, "aclose", None)
        if closing is not None:
            await closing()
        await self.storage.close()

    async def __aenter__(self) -> Bot:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- turns ----------------------------------------------------------------------

    def _remember(self, conversation_id: str, known: str) -> None:
        now = time.monotonic()
        self._known[conversation_id] = (known, now)
        self._known.move_to_end(conversation_id)
        self._forget_idle(now)
        while len(self._known) > _KNOWN_CACHE:
            self._known.popitem(last=False)

    def _forget_idle(self, now: float) -> None:
        """Drop the shortcuts of conversations without a turn for ``_KNOWN_FOR`` seconds."""
        while self._known:
            oldest = next(iter(self._known))
            if self._known[oldest][1] > now - _KNOWN_FOR:
                return
            del self._known[oldest]

    async def _maintain(self, now: float) -> None:
        """The sweeper's purge round: idle shortcuts, then the storage's retention work."""
        self._forget_idle(time.monotonic())
        await self.storage.maintain(now)

    def _config(self, conversation_id: str) -> RunnableConfig:
        return {
            "configurable": {"thread_id": conversation_id},
            "recursion_limit": RECURSION_LIMIT,
        }

    async def handle(
        self,
        conversation_id: str,
        text: str,
        *,
        user_id: str | None = None,
        wait: float | None = None,
    ) -> TurnResult:
        """Process one user message and return the bot's answer.

        Turns of one conversation run one at a time, in arrival order — across
        processes too, on a shared database.

        Args:
            wait: Seconds to wait at most for the conversation's turn while another
                message is being answered (``None``: as long as it takes; ``0``:
                not at all).

        Raises:
            ConversationBusy: ``wait`` passed before the turn came.
        """
        if len(text) > MAX_MESSAGE_CHARS:
            # Refused before the turn: understanding never reads it, no checkpoint keeps it.
            limit = f"{MAX_MESSAGE_CHARS:,} characters"
            refusal = self.engine.say("too_long", {"conversation_id": conversation_id}, limit=limit)
            result = TurnResult(conversation_id, [ReplyView(refusal, "error")])
            await self.events.emit(TurnCompleted.of(result, user_id, remote=False))
            return result
        return await self._turn(conversation_id, {"text": text, "user_id": user_id}, user_id, wait)

    async def decide(
        self,
        token: str,
        decision: str,
        *,
        actor: str | None = None,
        channel: str = "api",
    ) -> TurnResult:
        """Decide a pending confirmation out of band and resume its conversation.

        The decision is taken inside the conversation's turn order, so it cannot
        interleave with a chat turn (a correction superseding the same
        confirmation, say).
        """
        pending = await self.engine.confirmations.get(token)
        conversation_id = pending.conversation_id
        async with self.storage.turn(conversation_id):
            record = await self.engine.confirmations.decide(
                token, decision, actor=actor, channel=channel
            )
            trusted = not self.storage.shared and conversation_id in self._known
            state = None if trusted and pending.is_open else await self.state(conversation_id)
            if not trusted and not state:
                # The conversation was reset after this confirmation was decided (a
                # reset cancels open ones): a repeat of the decision is answered, but
                # resumes nothing — a turn would start the forgotten conversation anew.
                return TurnResult(conversation_id, status="ended")
            if state is not None and not _waits_for(state, record.id):
                # A repeat of a decision the conversation has already taken: its turn
                # ran then. Nothing new is said, and the conversation's last replies
                # stand (an empty turn would wipe them).
                current = await self._result(conversation_id, state)
                return dataclasses.replace(current, replies=[])
            result = await self._turn_held(conversation_id, {"decision": record.id}, record.user_id)
            if result.replies:
                # Its replies went to whoever decided; the chat's user answering the
                # same question a moment later ("yes", "no") is told them instead of
                # "Sorry, I didn't understand that."
                verb = "skipped" if record.decision == "skip" else "approved"
                by = f" (via {channel})" if channel != "chat" else ""
                told = self.engine.say("already_decided", state, decision=verb, via=by)
                self._recaps[conversation_id] = [told, *result.texts]
                while len(self._recaps) > _KNOWN_CACHE:
                    self._recaps.popitem(last=False)
            await self._completed(result, None)
            return result

    async def _turn(
        self,
        conversation_id: str,
        message: dict[str, Any],
        user_id: str | None,
        wait: float | None = None,
    ) -> TurnResult:
        async with self.storage.turn(conversation_id, wait):
            # Read in turn order: a decision made elsewhere just before this message
            # (its turn ahead in the queue) has left its answer by now.
            recap = self._recaps.pop(conversation_id, None)
            if recap is not None:
                message = {**message, "recap": recap}
            result = await self._turn_held(conversation_id, message, user_id)
            await self._completed(result, user_id)
            return result

    async def _completed(self, result: TurnResult, user_id: str | None) -> None:
        """Tell this process's subscribers, and the other processes, that a turn ended."""
        await self.events.emit(TurnCompleted.of(result, user_id, remote=False))
        if self.storage.shared:
            await self.storage.publish(
                Notice("turn", result.conversation_id, self.storage.origin, user_id=user_id)
            )

    async def _turn_held(
        self, conversation_id: str, message: dict[str, Any], user_id: str | None
    ) -> TurnResult:
        # The caller holds the conversation's lock. What the turn knows besides the
        # state, every node of it is handed (``soni.engine.turn``).
        turn = Turn()
        config = self._config(conversation_id)
        # Marks this turn's message: after a resume, the state shows whether the
        # graph really took it (see below).
        message = {**message, "id": secrets.token_hex(8)}
        known = self._known.get(conversation_id, (None, 0.0))[0]
        try:
            for _ in range(2):
                # A conversation this Bot has not seen runs from the start with the
                # message — new or not: a run from START takes an answer just as a
                # resume would (and a new one sets its state up in its first node).
                result = await self._invoke(
                    conversation_id, config, turn, known or "unseen", message, user_id
                )
                taken = (result.get("message") or {}).get("id") == message["id"]
                if taken or known != "paused":
                    break
                # This Bot last saw the conversation paused, but another one on the
                # same database has moved it on since: the resume found nothing to
                # resume. Read where it really is, and run the turn from there.
                logger.info("conversation %s moved on elsewhere; reading it", conversation_id)
                known = None
                self._known.pop(conversation_id, None)
        except GraphRecursionError:
            self._known.pop(conversation_id, None)
            logger.error(
                "conversation %s ran %d steps without pausing",
                conversation_id,
                MAX_STEPS_PER_TURN,
            )
            return TurnResult(
                conversation_id,
                [
                    ReplyView(
                        self.engine.say("turn_loop", {"conversation_id": conversation_id}),
                        "error",
                    )
                ],
                status="active",
            )
        except asyncio.CancelledError:
            # Cut off mid-turn: LangGraph saved where it was, with the rest of the
            # turn still to run. Read it next time instead of assuming a pause.
            self._known.pop(conversation_id, None)
            raise
        except Exception:
            # Nodes handle their own errors; this is the infrastructure failing
            # (the checkpointer, the confirmation store). Whatever was saved, the
            # next message resumes from the last checkpoint written.
            logger.exception("turn of conversation %s failed", conversation_id)
            self._known.pop(conversation_id, None)  # read the checkpoint next time
            return TurnResult(
                conversation_id,
                [
                    ReplyView(
                        self.engine.say("turn_error", {"conversation_id": conversation_id}),
                        "error",
                    )
                ],
                status="active",
            )
        self._remember(conversation_id, "paused" if "__interrupt__" in result else "idle")
        return await self._result(conversation_id, result, turn)

    async def _invoke(
        self,
        conversation_id: str,
        config: RunnableConfig,
        turn: Turn,
        known: str,
        message: dict[str, Any],
        user_id: str | None,
    ) -> dict[str, Any]:
        if known == "paused":
            resumed: dict[str, Any] = await self.graph.ainvoke(
                Command(resume=message), config, context=turn, durability="exit", version="v1"
            )
            return resumed
        # Idle (its last run ended at END), unseen, or new: a run from START with the
        # message. A new conversation's state is set up by the first node.
        start: ConversationState = {
            "message": message, "replies": [], "steps": 0, "conversation_id": conversation_id,
        }  # fmt: skip
        if user_id is not None:
            start["user_id"] = user_id
        started: dict[str, Any] = await self.graph.ainvoke(
            start, config, context=turn, durability="exit", version="v1"
        )
        return started

    async def _result(
        self, conversation_id: str, state: dict[str, Any], turn: Turn | None = None
    ) -> TurnResult:
        """What ``state`` shows of the conversation; ``turn`` is the turn that left it
        there, if one did (it knows the confirmations it wrote without a read)."""
        replies = [ReplyView(r["text"], r.get("kind", "text")) for r in state.get("replies") or []]
        waiting = state.get("waiting") or {}
        pending: list[PendingView] = []
        status: TurnStatus = "ended" if not state.get("stack") else "active"
        if waiting.get("kind") == "confirmation":
            confirmation_id = waiting["confirmation"]
            record = await (
                self.engine.confirmation(confirmation_id, turn)
                if turn is not None
                else self.engine.confirmations.get_by_id(confirmation_id)
            )
            if record is not None and record.is_open:
                pending.append(self._view(record))
                status = "awaiting_confirmation"
        elif waiting.get("kind") == "slot":
            status = "awaiting_input"
        stack = state.get("stack") or []
        return TurnResult(
            conversation_id,
            replies,
            pending,
            status,
            dict(state.get("slots") or {}),
            stack[-1]["flow"] if stack else None,
        )

    def _view(self, record: PendingConfirmation) -> PendingView:
        return PendingView(
            confirmation_id=record.id,
            token=self.engine.confirmations.token_of(record),
            prompt=record.prompt,
            options=record.options,
            labels=tuple(call.label for call in record.actions),
            expires_at=record.expires_at,
        )

    async def pending(self, conversation_id: str) -> list[PendingView]:
        """The conversation's open confirmations, oldest first.

        A token is ``None`` where this process no longer knows it (after a restart).
        """
        records = await self.engine.confirmations.list(
            conversation_id=conversation_id, status=("pending", "shown")
        )
        return [self._view(record) for record in records if record.is_open]

    async def state(self, conversation_id: str) -> dict[str, Any]:
        """The conversation's saved state (stack, slots, what it waits for)."""
        snapshot = await self.graph.aget_state(self._config(conversation_id))
        return dict(snapshot.values or {})

    async def reset(self, conversation_id: str) -> None:
        """Forget the conversation: its state, and its open confirmations are cancelled."""
        async with self.storage.turn(conversation_id):
            await self.engine.confirmations.cancel_conversation(conversation_id)
            await self.engine.journal.next_generation(conversation_id)
            await self.storage.delete_conversation(conversation_id)
            self._forget(conversation_id)
        await self.events.emit(ConversationReset(conversation_id, remote=False))
        if self.storage.shared:
            await self.storage.publish(Notice("reset", conversation_id, self.storage.origin))

    def _forget(self, conversation_id: str) -> None:
        self._known.pop(conversation_id, None)
        self._recaps.pop(conversation_id, None)

    # -- other processes on the same database -------------------------------------

    async def _heard(self, notice: Notice) -> None:
        """What another process did: forget what it made stale, tell subscribers."""
        conversation_id = notice.conversation_id
        if notice.kind == "confirmation" and notice.confirmation_id is not None:
            actor = None
            if notice.actor_channel is not None:
                actor = Actor(notice.actor_user, notice.actor_channel)
            await self.engine.confirmations.relay(
                notice.confirmation_id, notice.from_status, notice.to_status or "pending", actor
            )
        elif notice.kind == "turn":
            # It moved the conversation on: where it is now is in the checkpoint.
            self._forget(conversation_id)
            if not self.events:
                return  # nobody to tell: no need to read the checkpoint
            state = await self.state(conversation_id)
            if state:
                result = await self._result(conversation_id, state)
                await self.events.emit(TurnCompleted.of(result, notice.user_id, remote=True))
        elif notice.kind == "reset":
            self._forget(conversation_id)
            await self.events.emit(ConversationReset(conversation_id, remote=True))
        elif notice.kind == "action" and notice.action is not None and self.events:
            outcome = notice.to_status
            if outcome in get_args(ActionOutcome):
                ran = ActionRan(
                    conversation_id, notice.action, cast(ActionOutcome, outcome), remote=True
                )
                await self.events.emit(ran)

    # -- this process's events ----------------------------------------------------

    async def _confirmation_changed(self, event: ConfirmationEvent) -> None:
        """A confirmation moved (here, or relayed from another process): tell subscribers."""
        if not self.events:
            return
        changed = ConfirmationChanged(event, remote=event.remote)
        await self.events.emit(changed)
        ran = ActionRan.of(changed)
        if ran is not None:
            await self.events.emit(ran)

    async def _action_ran(self, ran: ActionRan) -> None:
        """A run no confirmation guards ended here: tell subscribers and the other processes."""
        await self.events.emit(ran)
        if self.storage.shared:
            notice = Notice(
                "action",
                ran.conversation_id,
                self.storage.origin,
                to_status=ran.outcome,
                action=ran.action,
            )
            await self.storage.publish(notice)


def _understanding_for(config: BotConfig) -> Understanding:
    """The understanding ``settings.nlu`` asks for; the rules also back the LLM up."""
    nlu = config.settings.nlu
    extra = dict(nlu.model_extra or {})  # checked by load_config
    rules = RulesUnderstanding(RulesSettings.from_settings(extra))
    if nlu.engine == "llm":
        from soni.nlu.llm import LLMSettings, LLMUnderstanding

        return LLMUnderstanding(LLMSettings.from_settings(extra), fallback=rules)
    return rules


def _secret_for(location: str, given: str | bytes | None) -> bytes | None:
    """The secret tokens are derived under: given, ``SONI_SECRET``, or the SQLite file's."""
    if isinstance(given, bytes):
        return parse_secret(given.decode("utf-8", "replace"), source="secret=")
    if isinstance(given, str):
        return parse_secret(given, source="secret=")
    from_env = secret_from_env()
    if from_env is not None:
        return from_env
    if location == ":memory:":
        return None
    if is_postgres_url(location):
        logger.warning(
            "SONI_SECRET is not set: confirmation tokens are known to this process only "
            "(after a restart, or on another worker, a pending confirmation is asked again)"
        )
        return None
    return load_or_create_secret(secret_file_for(location))


def _default_db(config: BotConfig, root: Path) -> str:
    persistence = config.settings.persistence
    if persistence.backend == "memory":
        return ":memory:"
    if persistence.backend == "postgres":
        return str(persistence.url)  # the settings model requires it with this backend
    path = Path(persistence.path)
    if not path.is_absolute():
        path = (root if root.is_dir() else root.parent) / path
    return str(path)
