"""Handlers of the file assistant: a pretend file store that records what it did."""

from soni import ActionContext, ActionRegistry

FILES = {"report.pdf": (420, "ana"), "notes.txt": (3, "ben")}
DONE: list[dict[str, str]] = []  # what the file actions did, for the tests


def _record(action: str, file_name: str, ctx: ActionContext) -> dict[str, str]:
    DONE.append(
        {
            "conversation": ctx.conversation_id,
            "action": action,
            "file": file_name,
            "key": ctx.idempotency_key,
        }
    )
    return {"outcome": f"{file_name} {action}"}


@ActionRegistry.register("inspect_file", idempotent=True)
def inspect_file(file_name: str) -> dict[str, object]:
    size_kb, owner = FILES.get(file_name, (0, "nobody"))
    return {"size_kb": size_kb, "owner": owner}


@ActionRegistry.register("archive_file")
def archive_file(file_name: str, ctx: ActionContext) -> dict[str, str]:
    return _record("archived", file_name, ctx)


@ActionRegistry.register("delete_file")
def delete_file(file_name: str, ctx: ActionContext) -> dict[str, str]:
    return _record("deleted", file_name, ctx)


@ActionRegistry.register("share_file")
def share_file(file_name: str, ctx: ActionContext) -> dict[str, str]:
    return _record("shared", file_name, ctx)


@ActionRegistry.register("storage_usage", idempotent=True)
def storage_usage() -> dict[str, int]:
    return {"used_mb": 423, "quota_mb": 1024}
