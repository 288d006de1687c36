"""The LangGraph graph: one node per step kind, each naming the next.

The graph does not change with the bot: every flow is a program (see
``program.py``), and each node sends the conversation on to the node of the current
instruction's kind (``route``). So a turn resumes exactly where it paused — whatever the
position in the flow — and runs only the steps up to the next pause.

Each LangGraph step has a fixed cost, so the graph spends them where they mean
something: the pause and the understanding of the answer share the ``wait`` node,
and the light steps after a node (``say``, ``set``, ``branch``, ``end``…) run
inside it; a step that runs a handler or asks for a decision is a node of its own.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from langgraph.errors import GraphBubbleUp
from langgraph.graph import END as GRAPH_END
from langgraph.graph import START, StateGraph
from langgraph.runtime import Runtime
from langgraph.types import Command

from soni.dsl.program import END
from soni.engine.core import Engine
from soni.engine.nodes.action import run_action
from soni.engine.nodes.apply import run_apply
from soni.engine.nodes.branch import run_branch
from soni.engine.nodes.choose import run_choose
from soni.engine.nodes.collect import run_collect
from soni.engine.nodes.confirm import run_confirm
from soni.engine.nodes.jumps import run_call, run_end, run_link
from soni.engine.nodes.listen import run_understand, run_wait
from soni.engine.nodes.loop import run_while
from soni.engine.nodes.say import run_say
from soni.engine.nodes.set import run_set
from soni.engine.stack import current, end_task, pop, reply
from soni.engine.state import ConversationState
from soni.engine.turn import Turn

__all__ = ("build_graph", "route")

Node = Callable[[Engine, ConversationState, Turn], Awaitable[dict[str, Any]]]
"""A step kind's node: the bot, the conversation's state, and the turn it runs in
(LangGraph hands every node the run's context: the ``Turn`` that ``Bot`` made)."""

STEP_NODES: dict[str, Node] = {
    "say": run_say,
    "collect": run_collect,
    "set": run_set,
    "branch": run_branch,
    "while": run_while,
    "action": run_action,
    "choose": run_choose,
    "confirm": run_confirm,
    "link": run_link,
    "call": run_call,
    "end": run_end,
}

Guarded = Callable[[ConversationState, Turn], Awaitable[dict[str, Any]]]


class Routed(Protocol):
    """A node as LangGraph runs it: it names the next node, and is handed the run's
    ``Runtime``, whose context is the turn."""

    def __call__(
        self, state: ConversationState, *, runtime: Runtime[Turn]
    ) -> Awaitable[Command[str]]: ...


INLINE_KINDS = frozenset(
    {"say", "set", "branch", "while", "collect", "link", "call", "end", "finish"}
)
"""Steps that run inside the node before them: no handler, no confirmation to wait for."""

# A flow whose steps jump among themselves without asking anything would never
# pause; past this many steps in one turn the flow is ended with an error.
MAX_STEPS_PER_TURN = 500
RECURSION_LIMIT = 2 * MAX_STEPS_PER_TURN + 50

logger = logging.getLogger("soni.engine")


async def run_listen(engine: Engine, state: ConversationState, turn: Turn) -> dict[str, Any]:
    """Understand the message and apply its commands, as one step of the graph.

    Two functions, one node: every node costs a LangGraph step, and these two
    always run back to back.
    """
    fresh: ConversationState = {}
    if state.get("stack") is None:
        # The conversation's first message (or its first after a reset): its state
        # starts here, with the slots' defaults and the id's reset generation.
        conversation_id = state.get("conversation_id", "")
        fresh = {
            "stack": [], "slots": engine.new_slots(), "turn": 0, "frames": 0,
            "waiting": None, "generation": await engine.journal.generation(conversation_id),
        }  # fmt: skip
        state = {**state, **fresh}
    understood = await run_understand(engine, state, turn)
    if understood.error is not None:
        state = {**state, "replies": [{"text": understood.error, "kind": "error"}]}
    applied = await run_apply(engine, state, understood.commands, turn)
    return {**fresh, **applied, "turn": (state.get("turn") or 0) + 1}


async def run_finish(engine: Engine, state: ConversationState, turn: Turn) -> dict[str, Any]:
    """The top flow ran past its last step: pop it; the flow below resumes."""
    return pop(state)


async def run_abort(engine: Engine, state: ConversationState, turn: Turn) -> dict[str, Any]:
    """The turn ran too many steps without pausing: end the looping task."""
    frame = current(state)
    flow = engine.flow_title(frame["flow"]) if frame else "that"
    logger.error("a turn ran %d steps without pausing in %s", MAX_STEPS_PER_TURN, flow)
    text = engine.say("flow_loop", state, in_flow=frame["flow"] if frame else None, flow=flow)
    ended = end_task(state)
    await _withdraw(engine, state, turn, ended["stack"])
    return {**ended, "waiting": None, "steps": 0, "replies": reply(state, text)}


def _guarded(engine: Engine, name: str, node: Node) -> Guarded:
    """A node that cannot take the conversation down.

    LangGraph saves the checkpoint even when a turn fails, so a node that raised
    would be re-run — and fail — on every later message. Instead an unexpected
    error ends the task at hand with an apology, and the conversation goes on.
    """
    counts = name in STEP_NODES

    async def run(state: ConversationState, turn: Turn) -> dict[str, Any]:
        try:
            updates = await node(engine, state, turn)
        except GraphBubbleUp:
            raise
        except Exception:
            frame = current(state)
            logger.exception(
                "step node %r failed in flow %s", name, frame["flow"] if frame else None
            )
            flow = engine.flow_title(frame["flow"]) if frame else "that"
            where = frame["flow"] if frame else None
            text = engine.say("flow_error", state, in_flow=where, flow=flow)
            updates = {**end_task(state), "waiting": None, "replies": reply(state, text)}
            await _withdraw(engine, state, turn, updates["stack"])
        if counts:
            updates["steps"] = (state.get("steps") or 0) + 1
        return updates

    return run


async def _withdraw(engine: Engine, state: ConversationState, turn: Turn, kept: list[Any]) -> None:
    """Cancel the open confirmations of the flows a failure ended.

    Left open, a confirmation of a flow that no longer exists could still be
    approved (by a link, say), and nothing would ever run it.
    """
    kept_ids = {frame["id"] for frame in kept}
    for frame in state.get("stack") or []:
        pending = frame.get("confirmation")
        if frame["id"] in kept_ids or not pending:
            continue
        try:
            record = await engine.confirmation(pending, turn)
            if record is not None and record.is_open:
                await engine.confirmations.cancel(record)
        except Exception:  # the apology goes out whatever the store says
            logger.exception("could not withdraw confirmation %s", pending)


def route(engine: Engine, state: ConversationState) -> str:
    if state.get("waiting"):
        return "wait"
    if (state.get("steps") or 0) >= MAX_STEPS_PER_TURN:
        return "abort"
    frame = current(state)
    if frame is None:
        # Nothing left to do: the run ends here, without a pause to checkpoint;
        # the next message starts a new run on the same conversation state.
        return GRAPH_END
    if frame["pos"] == END:
        return "finish"
    instruction = engine.programs[frame["flow"]].at(frame["pos"])
    return "finish" if instruction is None else instruction.kind


def _wait_and_listen(engine: Engine) -> Guarded:
    """Pause for the user and, once resumed, understand the message — one node.

    Every node costs a LangGraph step, and these always run back to back. On resume
    LangGraph runs the node again from its start; ``interrupt()`` then returns the
    message instead of pausing. Only the part after it is guarded: the pause itself
    is an exception that must reach LangGraph.
    """
    listen = _guarded(engine, "understand", run_listen)

    async def wait(state: ConversationState, turn: Turn) -> dict[str, Any]:
        resumed = await run_wait(engine, state)
        listened = await listen({**state, **resumed}, turn)
        return {**resumed, **listened}

    return wait


def _then_inline(engine: Engine, node: Guarded, inline: dict[str, Guarded]) -> Routed:
    """``node``, then — in the same LangGraph step — the light steps that follow it.

    Every node costs a LangGraph step (task set-up, writes), which a run of
    ``say``/``set``/``branch``/``end`` steps should not pay one by one. A step that
    runs a handler or asks for a decision keeps its own node, and so does the pause.
    State has no reducers, so applying the updates in order is what LangGraph would
    have done between the nodes.

    The node names the next one itself (``Command(goto=...)``): it has just worked
    the route out to stop its inline run. A conditional edge would work it out
    again, on a fresh copy of every channel, after every node.
    """

    async def run(state: ConversationState, *, runtime: Runtime[Turn]) -> Command[str]:
        turn = _turn_of(runtime)
        updates = await node(state, turn)
        now: dict[str, Any] = {**state, **updates}
        while (kind := route(engine, now)) in inline:  # type: ignore[arg-type]
            more = await inline[kind](now, turn)  # type: ignore[arg-type]
            updates.update(more)
            now.update(more)
        return Command(update=updates, goto=kind)

    return run


def _turn_of(runtime: Runtime[Turn]) -> Turn:
    """The turn the graph runs in: LangGraph hands every node the run's context."""
    turn = runtime.context
    if not isinstance(turn, Turn):
        # A bug, not a state a conversation can be in: whatever runs the graph
        # (``Bot``) passes a new Turn for each turn.
        raise TypeError(f"the graph runs with a Turn as its context (context={turn!r})")
    return turn


def build_graph(
    engine: Engine,
) -> StateGraph[ConversationState, Turn, ConversationState, ConversationState]:
    graph = StateGraph(ConversationState, context_schema=Turn)
    nodes: dict[str, Node] = {
        "understand": run_listen,
        "finish": run_finish,
        "abort": run_abort,
        **STEP_NODES,
    }
    guarded = {name: _guarded(engine, name, node) for name, node in nodes.items()}
    inline = {kind: guarded[kind] for kind in INLINE_KINDS}
    # Only the steps that are not run inline are nodes: nothing routes to the others
    # (see _then_inline), and every node adds channels LangGraph reads each step.
    # Each node routes itself; the destinations only draw the graph.
    own = [name for name in guarded if name not in INLINE_KINDS]
    destinations = ("wait", *own, GRAPH_END)
    graph.add_node(
        "wait", _then_inline(engine, _wait_and_listen(engine), inline), destinations=destinations
    )
    for name in own:
        graph.add_node(name, _then_inline(engine, guarded[name], inline), destinations=destinations)
    graph.add_edge(START, "understand")
    return graph
