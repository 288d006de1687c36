"""The deployment's secret, from which every process derives the same tokens.

Every process serving one database needs the same secret to show a pending
confirmation's token again (``ConfirmationRegistry(store, secret=…)``). It comes
from ``SONI_SECRET`` (``secret_from_env``), or, for a SQLite database, from a file
beside it that the first process to need it creates (``load_or_create_secret``
of ``secret_file_for(database)``: ``state.db`` → ``state.secret``).

A secret is text of at least ``MIN_SECRET_LENGTH`` characters, used as its UTF-8
bytes; white space around it (the newline of a file or an env file) is not part
of it. Error messages name where a secret came from, never what it holds.
"""

from __future__ import annotations

import logging
import os
import secrets
import stat
import sys
from collections.abc import Mapping
from pathlib import Path

from soni.confirmations.tokens import SECRET_BYTES
from soni.errors import SoniError

__all__ = (
    "ENV_VAR",
    "MIN_SECRET_LENGTH",
    "SecretError",
    "load_or_create_secret",
    "parse_secret",
    "secret_file_for",
    "secret_from_env",
)

logger = logging.getLogger("soni.confirmations")

ENV_VAR = "SONI_SECRET"

MIN_SECRET_LENGTH = 32
"""Characters: 32 random URL-safe characters hold 192 bits, more than a token."""

_HINT = "python -c 'import secrets; print(secrets.token_urlsafe(32))' makes one"


class SecretError(SoniError, ValueError):
    """A secret that is missing where it must be, too short, or unreadable.

    The message names where the secret came from and never contains it.
    """


def parse_secret(text: str, *, source: str = ENV_VAR) -> bytes:
    """The secret ``text`` holds, as the bytes that key the tokens.

    Args:
        text: At least ``MIN_SECRET_LENGTH`` characters once stripped of white
            space around them; any characters, used as UTF-8.
        source: Where the text came from, for error messages (a variable's name,
            a file's path).

    Raises:
        SecretError: empty, or too short.
    """
    value = text.strip()
    if not value:
        raise SecretError(
            f"{source} is empty: a secret needs at least {MIN_SECRET_LENGTH} characters ({_HINT})"
        )
    if len(value) < MIN_SECRET_LENGTH:
        raise SecretError(
            f"{source} is too short: {len(value)} characters, a secret needs at least"
            f" {MIN_SECRET_LENGTH} ({_HINT})"
        )
    return value.encode("utf-8")


def secret_from_env(environ: Mapping[str, str] = os.environ) -> bytes | None:
    """The secret in ``SONI_SECRET``, or ``None`` when the variable is not set.

    A variable that is set but empty is an error, not "no secret": it is most
    likely a template that failed to fill it in, and a process quietly using a
    secret of its own would show tokens no other worker can.

    Raises:
        SecretError: set, but empty or too short.
    """
    text = environ.get(ENV_VAR)
    return None if text is None else parse_secret(text, source=ENV_VAR)


def secret_file_for(database: str | os.PathLike[str]) -> Path:
    """Where a SQLite database's secret is kept: ``state.db`` → ``state.secret``.

    The path is resolved first, as for ``runners_folder``: a database reached
    through a link, or by a relative path from another folder, has one secret.
    """
    path = Path(database).resolve()
    return path.with_name(f"{path.stem}.secret")


def load_or_create_secret(path: str | os.PathLike[str]) -> bytes:
    """The secret in the file at ``path``, created (mode 0600) if there is none.

    The file appears whole or not at all: the secret is written and flushed to a
    temporary file, which is then linked to ``path`` — a link, unlike a rename,
    fails if ``path`` exists. So processes and threads creating it at once all
    end up with the one secret that was linked first, and no reader ever sees a
    half-written file.

    Raises:
        SecretError: the file exists but cannot be read, or is empty or too short;
            or it cannot be created.
    """
    file = Path(path)
    secret = _read(file)
    if secret is None:
        _create(file)
        secret = _read(file)
        if secret is None:
            raise SecretError(f"the secret file {file} was deleted while it was being created")
    return secret


def _read(file: Path) -> bytes | None:
    try:
        data = file.read_bytes()
        mode = file.stat().st_mode
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise SecretError(f"cannot read the secret file {file}: {exc.strerror}") from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise SecretError(f"the secret file {file} is not UTF-8 text") from None
    secret = parse_secret(text, source=f"the secret file {file}")
    if sys.platform != "win32" and stat.S_IMODE(mode) & 0o077:
        logger.warning(
            "the secret file %s can be read by others than its owner: chmod 600 it", file
        )
    return secret


def _create(file: Path) -> None:
    """Create ``file`` holding a new secret, unless it exists by the time it is linked."""
    data = (secrets.token_urlsafe(SECRET_BYTES) + "\n").encode("ascii")
    temporary = file.with_name(f".{file.name}.{secrets.token_hex(8)}.tmp")
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as out:
            if sys.platform != "win32":
                os.fchmod(out.fileno(), 0o600)  # exactly, whatever the umask
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(temporary, file)
        except FileExistsError:
            return  # another process or thread was first: its secret is the secret
        _sync_folder(file.parent)
    except OSError as exc:
        raise SecretError(f"cannot create the secret file {file}: {exc.strerror}") from exc
    finally:
        temporary.unlink(missing_ok=True)


def _sync_folder(folder: Path) -> None:
    """Make the new link durable: a crash must not lose a secret tokens were made with."""
    if sys.platform == "win32":
        return
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
