"""Handlers of the actions test bot: each records its calls."""

import asyncio
import datetime

from soni import ActionContext, ActionRegistry

CALLS: list[tuple[str, str]] = []  # (conversation id, action)


@ActionRegistry.register("steps_quote")
def steps_quote(item: str | None = None, *, ctx: ActionContext) -> dict[str, object]:
    CALLS.append((ctx.conversation_id, "steps_quote"))
    return {"price": 12.5, "stock": 7, "colour": "red"}


@ActionRegistry.register("steps_explode")
def steps_explode(ctx: ActionContext) -> dict[str, object]:
    CALLS.append((ctx.conversation_id, "steps_explode"))
    raise RuntimeError("the printer is on fire")


@ActionRegistry.register("steps_slow")
async def steps_slow(ctx: ActionContext) -> dict[str, object]:
    CALLS.append((ctx.conversation_id, "steps_slow"))
    await asyncio.sleep(5)
    return {"done": True}


@ActionRegistry.register("steps_note_day")
def steps_note_day(day: datetime.date, ctx: ActionContext) -> None:
    CALLS.append((ctx.conversation_id, f"steps_note_day {day.isoformat()}"))
