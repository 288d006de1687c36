"""The LangGraph graph: one node per step kind, a router between them.

The graph does not change with the bot: every flow is a program (see
``program.py``), and the router sends the conversation to the node of the current
instruction's kind. So a turn resumes exactly where it paused — whatever the
position in the flow — and runs only the steps up to the next pause.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from langgraph.graph import START, StateGraph

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
from soni.engine.program import END
from soni.engine.stack import current, pop
from soni.engine.state import ConversationState

__all__ = ("build_graph", "route")

Node = Callable[[Engine, ConversationState], Awaitable[dict[str, Any]]]

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

# A flow whose steps jump among themselves without asking anything would never
# pause; past this many steps in one turn the flow is ended with an error.
MAX_STEPS_PER_TURN = 500


async def run_finish(engine: Engine, state: ConversationState) -> dict[str, Any]:
    """The top flow ran past its last step: pop it; the flow below resumes."""
    return pop(state)


def route(engine: Engine, state: ConversationState) -> str:
    if state.get("waiting"):
        return "wait"
    frame = current(state)
    if frame is None:
        return "wait"
    if frame["pos"] == END:
        return "finish"
    instruction = engine.programs[frame["flow"]].at(frame["pos"])
    return "finish" if instruction is None else instruction.kind


def build_graph(engine: Engine) -> StateGraph:  # type: ignore[type-arg]
    graph = StateGraph(ConversationState)
    graph.add_node("wait", partial(run_wait, engine))
    graph.add_node("understand", partial(run_understand, engine))
    graph.add_node("apply", partial(run_apply, engine))
    graph.add_node("finish", partial(run_finish, engine))
    for kind, node in STEP_NODES.items():
        graph.add_node(kind, partial(node, engine))
    destinations = ["wait", "finish", *STEP_NODES]
    router = partial(route, engine)
    graph.add_edge(START, "understand")
    graph.add_edge("wait", "understand")
    graph.add_edge("understand", "apply")
    for name in ["apply", "finish", *STEP_NODES]:
        graph.add_conditional_edges(name, router, destinations)
    return graph
