"""Handlers of the loops test bot."""

from soni import ActionContext, ActionRegistry

TICKS: list[str] = []  # one conversation id per call


@ActionRegistry.register("steps_tick")
def steps_tick(ctx: ActionContext) -> None:
    TICKS.append(ctx.conversation_id)
