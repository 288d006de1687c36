"""A process that talks to a bot until one of its handlers kills it (SIGKILL).

    python _crashing_process.py BOT_DIR DB CONVERSATION MESSAGE...

Each message is sent as user ``u1``; ``!approve`` approves the confirmation the
last turn asked for, by its token, as a link would. After each turn one JSON line
is printed (its texts and the tokens it asked for), so the test knows what the
process saw before it died. The environment says which handler kills it (see the
bot's actions.py).
"""

from __future__ import annotations

import asyncio
import json
import sys

from soni import Bot


async def main(bot_dir: str, db: str, conversation: str, messages: list[str]) -> None:
    bot = await Bot.load(bot_dir, db=db)
    tokens: list[str | None] = []
    for message in messages:
        if message == "!approve":
            assert tokens and tokens[-1], "nothing to approve"
            result = await bot.decide(tokens[-1], "approve", actor="u1", channel="http")
        else:
            result = await bot.handle(conversation, message, user_id="u1")
        tokens = [pending.token for pending in result.pending]
        print(json.dumps({"texts": result.texts, "tokens": tokens}), flush=True)
    await bot.aclose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]))
