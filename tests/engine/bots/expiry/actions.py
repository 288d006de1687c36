"""Handlers of the expiry test bot."""

from soni import ActionContext, ActionRegistry

WIPES: list[str] = []  # one conversation id per call


@ActionRegistry.register("steps_wipe")
def steps_wipe(ctx: ActionContext) -> None:
    WIPES.append(ctx.conversation_id)
