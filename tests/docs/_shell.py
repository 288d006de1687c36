"""Running ``console`` blocks for real, without a shell and without curl.

The console blocks of a page (with the same setup) are one terminal session, in a
fresh folder holding a copy of ``examples/``. Each ``$ `` line is a command
(``\\`` continues it); the lines below it, up to the next ``$ ``, are its output.

- ``soni ...`` runs the ``soni`` script beside the Python running the tests (else
  ``python -m soni ...``); ``soni serve`` and ``uvicorn`` start a
  server that stays up for the rest of the session (the harness waits until it is
  ready; no output is shown for them). Their ``--port`` is replaced by a free one.
  A server that exits instead (a bot that does not load) is an error, unless its
  command is not in the background (no ``&``): then what it printed is its output.
- ``soni worker ... &`` starts an action worker that stays up for the rest of the
  session, its ``--url``'s port that of the session's server; the harness waits until
  it says it is connected (no output is shown for it).
- ``curl ...`` is replayed with httpx against the session's server — the one a
  command started, else ``soni serve examples/banking`` started for the session.
  Flags: ``-s -S -N -i -X -H -d -o /dev/null -w '%{http_code}\\n'``;
  ``localhost:8000`` is the server's real address.
- ``export NAME=value`` and ``NAME=value cmd`` set variables; ``$NAME`` expands
  outside single quotes. ``$TOKEN`` is the last confirmation token an answer
  carried (a ``"token"`` member).
- ``cmd | grep PATTERN`` keeps the matching lines; ``printf 'a\\nb\\n' | soni ...``
  gives the command those lines on its standard input.
- ``cmd &`` runs in the background: a stream's (``curl -N``) output is expected
  after the output of the block's last command.
- ``echo WORDS`` prints its words; ``$?`` is the exit status of the command before
  (``soni``'s; ``curl``'s is 0, as without ``-f``; after ``| grep``, grep's).
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from ._match import iter_strings, output_mismatch, parse_values
from ._setups import SETUPS

# `soni` as a user types it (its usage lines say "soni", not "python -m soni").
_SCRIPT = Path(sys.executable).with_name("soni")
_SONI = [str(_SCRIPT)] if _SCRIPT.is_file() else [sys.executable, "-m", "soni"]

_COMMAND_TIMEOUT = 60.0
_START_TIMEOUT = 40.0
_STREAM_WAIT = 6.0


@dataclass
class Command:
    words: list[str]
    line: int  # page line of the "$ "
    background: bool = False
    grep: str | None = None
    stdin: str | None = None
    env: dict[str, str] = field(default_factory=dict)


@dataclass
class Step:
    """A command as written, and the output shown below it."""

    source: str
    line: int
    shown: str


def parse_console(text: str, first_line: int) -> list[Step]:
    """The ``$ `` commands of a console block and the output shown after each."""
    steps: list[Step] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.startswith("$ "):
            if line.strip() and not steps:
                raise ValueError(f"line {first_line + i}: output before any '$ ' command")
            if steps:
                steps[-1].shown += line + "\n"
            i += 1
            continue
        start = i
        source = line[2:]
        while source.endswith("\\") and i + 1 < len(lines):
            i += 1
            source = source[:-1] + " " + lines[i].strip()
        steps.append(Step(source, first_line + start, ""))
        i += 1
    return steps


def _expand(word: str, variables: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match[1] or match[2] or match[3]
        if name not in variables:
            raise ValueError(f"${name} is not set in this session")
        return variables[name]

    return re.sub(r"\$\{(\w+)\}|\$(\w+)|\$(\?)", value, word)


def split_words(source: str, variables: dict[str, str]) -> list[str]:
    """Shell words: quotes removed, ``$NAME`` expanded outside single quotes.

    ``|`` and ``&`` come out as words of their own; a ``#`` starting a word ends
    the line.
    """
    words: list[str] = []
    current: list[str] = []
    started = False
    i = 0

    def flush() -> None:
        nonlocal started
        if started:
            words.append("".join(current))
        current.clear()
        started = False

    while i < len(source):
        char = source[i]
        if char == "'":
            end = source.index("'", i + 1)
            current.append(source[i + 1 : end])
            started = True
            i = end + 1
        elif char == '"':
            j = i + 1
            chunk: list[str] = []
            while source[j] != '"':
                if source[j] == "\\" and source[j + 1] in '"\\$`':
                    chunk.append(source[j + 1])
                    j += 2
                    continue
                chunk.append(source[j])
                j += 1
            current.append(_expand("".join(chunk).replace("\\$", "$"), variables))
            started = True
            i = j + 1
        elif char == "\\":
            current.append(source[i + 1])
            started = True
            i += 2
        elif char.isspace():
            flush()
            i += 1
        elif char in "|&":
            flush()
            words.append(char)
            i += 1
        elif char == "#" and not started:
            break
        else:
            j = i
            while j < len(source) and not source[j].isspace() and source[j] not in "'\"\\|&":
                j += 1
            current.append(_expand(source[i:j], variables))
            started = True
            i = j
    flush()
    return words


def _printf(text: str) -> str:
    """What ``printf TEXT`` prints: its backslash escapes, and ``%%``, are all it has."""
    return text.replace("\\n", "\n").replace("\\t", "\t").replace("%%", "%")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


class _Stream:
    """A ``curl -N`` reading in a thread until stopped."""

    def __init__(self, client: httpx.Client, request: httpx.Request) -> None:
        self.client = client
        self.request = request
        self.parts: list[str] = []
        self.error: BaseException | None = None
        self.socket: socket.socket | None = None
        self.opened = threading.Event()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()
        if not self.opened.wait(10):
            raise AssertionError("the stream did not open within 10 s")

    def _read(self) -> None:
        try:
            response = self.client.send(self.request, stream=True)
            self.socket = response.extensions["network_stream"].get_extra_info("socket")
            for chunk in response.iter_text():
                self.parts.append(chunk.replace("\r\n", "\n"))
                # The server writes its first event once the subscription is in
                # place: only then may the session go on.
                self.opened.set()
        except Exception as exc:
            self.error = exc
        finally:
            self.opened.set()

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def stop(self) -> None:
        # Closing the client does not wake a read in progress; shutting the socket does.
        if self.socket is not None:
            with contextlib.suppress(OSError):
                self.socket.shutdown(socket.SHUT_RDWR)
        self.thread.join(5)
        self.client.close()


class Session:
    """One terminal: a folder, variables, the servers its commands started."""

    def __init__(self, cwd: Path, setup: str | None = None) -> None:
        self.cwd = cwd
        self.variables: dict[str, str] = {}
        self.exported: dict[str, str] = {}
        self.ports: dict[int, int] = {}
        self.servers: list[tuple[subprocess.Popen[bytes], Any]] = []
        self.streams: list[_Stream] = []
        self.workers: list[tuple[subprocess.Popen[str], threading.Thread]] = []
        if setup:
            SETUPS[setup].write_files(cwd)
            self.exported.update(SETUPS[setup].env)

    # -- environment ----------------------------------------------------------------

    def _env(self, extra: dict[str, str]) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items() if not k.startswith("SONI_")}
        return {
            **base,
            "NO_COLOR": "1",
            "COLUMNS": "100",
            "PYTHONDONTWRITEBYTECODE": "1",
            **self.exported,
            **extra,
        }

    def _address(self, url: str) -> str:
        def real(match: re.Match[str]) -> str:
            port = int(match[2])
            if port not in self.ports:
                if port != 8000:
                    raise ValueError(f"nothing in this session serves port {port}")
                self.start_default_server()
            return f"127.0.0.1:{self.ports[port]}"

        url = re.sub(r"(localhost|127\.0\.0\.1):(\d+)", real, url)
        return url if "://" in url else f"http://{url}"

    # -- servers --------------------------------------------------------------------

    def start_default_server(self) -> None:
        """``soni serve examples/banking`` for the session's curl commands."""
        self._serve(
            [
                "soni", "serve", "examples/banking", "--port", "8000",
                "--db", ".soni/session.db", "--log-level", "warning",
            ],
            {},
        )  # fmt: skip

    def _serve(self, words: list[str], env: dict[str, str], *, background: bool = True) -> str:
        args = list(words[1:])
        shown = 8000
        if "--port" in args:
            at = args.index("--port") + 1
            shown = int(args[at])
            args[at] = str(port := _free_port())
        else:
            args += ["--port", str(port := _free_port())]
        program = _SONI if words[0] == "soni" else [sys.executable, "-m", "uvicorn"]
        log = open(self.cwd / f"server-{port}.log", "wb")  # noqa: SIM115 - closed in close()
        process = subprocess.Popen(
            [*program, *args],
            cwd=self.cwd,
            env=self._env(env),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.servers.append((process, log))
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + _START_TIMEOUT
        while True:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{base}/ready", timeout=2).status_code == 200:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                log.flush()
                text = (self.cwd / f"server-{port}.log").read_text(errors="replace")
                if process.returncode is not None and not background:
                    self.variables["?"] = str(process.returncode)
                    return text
                raise AssertionError(f"`{' '.join(words)}` did not become ready:\n{text[-3000:]}")
            time.sleep(0.1)
        self.ports[shown] = port
        self.variables["?"] = "0"
        return ""

    def _worker(self, words: list[str], env: dict[str, str]) -> str:
        """An action worker for the rest of the session: ready once it says it connected."""
        args = list(words[2:])
        if "--url" in args:
            at = args.index("--url") + 1
            args[at] = "ws" + self._address(args[at].replace("ws://", "", 1)).removeprefix("http")
        process = subprocess.Popen(
            [*_SONI, "worker", *args],
            cwd=self.cwd,
            env=self._env(env),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert process.stdout is not None
        seen: list[str] = []
        for line in process.stdout:  # ends when the worker exits
            seen.append(line)
            if line.startswith("connected to "):
                break
        else:
            process.wait(5)
            raise AssertionError(f"`{' '.join(words)}` did not connect:\n{''.join(seen)[-3000:]}")
        # Its later lines go on being read, so that it never blocks on a full pipe.
        reader = threading.Thread(target=process.stdout.read, daemon=True)
        reader.start()
        self.workers.append((process, reader))
        self.variables["?"] = "0"
        return ""

    def close(self) -> None:
        for worker, reader in self.workers:
            worker.terminate()
            try:
                worker.wait(15)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait(5)
            reader.join(5)  # at the end of its output, now the worker is gone
            if worker.stdout is not None:
                worker.stdout.close()
        for stream in self.streams:
            stream.stop()
        for process, log in self.servers:
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
            log.close()

    # -- commands -------------------------------------------------------------------

    def command(self, source: str, line: int) -> Command:
        words = split_words(source, {**self.exported, **self.variables})
        command = Command(words, line)
        if words and words[-1] == "&":
            command.background = True
            words.pop()
        if words and words[0] == "printf" and "|" in words:
            at = words.index("|")
            if at != 2:
                raise ValueError(f"line {line}: write `printf 'TEXT' | command`")
            command.stdin = _printf(words[1])
            del words[: at + 1]
        if "|" in words:
            at = words.index("|")
            tail = words[at + 1 :]
            if not tail or tail[0] != "grep" or len(tail) != 2:
                raise ValueError(f"line {line}: only `| grep PATTERN` is understood")
            command.grep = tail[1]
            del words[at:]
        while words and re.fullmatch(r"[A-Za-z_]\w*=.*", words[0]):
            name, _, value = words.pop(0).partition("=")
            command.env[name] = value
        return command

    def run(self, command: Command) -> str:
        words = command.words
        status = 0
        if not words:
            self.exported.update(command.env)
            return ""
        if words[0] == "export":
            for word in words[1:]:
                name, _, value = word.partition("=")
                self.exported[name] = value
            self.variables["?"] = "0"
            return ""
        if words[0] == "uvicorn" or words[:2] == ["soni", "serve"]:
            return self._serve(words, command.env, background=command.background)
        if words[:2] == ["soni", "worker"] and command.background:
            return self._worker(words, command.env)
        if command.background and words[0] != "curl":
            raise ValueError(f"line {command.line}: only curl and servers may run with &")
        if words[0] == "soni":
            done = subprocess.run(
                [*_SONI, *words[1:]],
                cwd=self.cwd,
                env=self._env(command.env),
                input=command.stdin,
                capture_output=True,
                text=True,
                timeout=_COMMAND_TIMEOUT,
                check=False,
            )
            out = done.stdout + done.stderr
            status = done.returncode
        elif words[0] == "curl":
            out = self._curl(words[1:], command)
        elif words[0] == "echo":
            out = " ".join(words[1:]) + "\n"
        else:
            raise ValueError(f"line {command.line}: the harness cannot run `{words[0]}`")
        if command.grep is not None:
            pattern = re.compile(command.grep)
            out = "".join(x for x in out.splitlines(keepends=True) if pattern.search(x))
            status = 0 if out else 1
        self.variables["?"] = str(status)
        return out

    def _curl(self, args: list[str], command: Command) -> str:
        method: str | None = None
        headers: dict[str, str] = {}
        data: str | None = None
        url: str | None = None
        discard = stream = include = False
        write_out = ""
        takes = {"-X": "method", "--request": "method", "-H": "header", "--header": "header",
                 "-d": "data", "--data": "data", "--data-raw": "data", "-o": "output",
                 "--output": "output", "-w": "write", "--write-out": "write"}  # fmt: skip
        i = 0
        while i < len(args):
            arg = args[i]
            if arg in takes:
                value = args[i + 1]
                i += 2
                what = takes[arg]
                if what == "method":
                    method = value
                elif what == "header":
                    name, _, text = value.partition(":")
                    headers[name.strip()] = text.strip()
                elif what == "data":
                    data = value
                elif what == "output":
                    if value != "/dev/null":
                        raise ValueError(f"line {command.line}: -o only to /dev/null")
                    discard = True
                else:
                    write_out = value
                continue
            if arg.startswith("-") and not arg.startswith("--") and set(arg[1:]) <= set("sSNi"):
                stream = stream or "N" in arg
                include = include or "i" in arg
            elif arg.startswith("-"):
                raise ValueError(f"line {command.line}: the harness does not know curl's {arg}")
            else:
                url = arg
            i += 1
        if url is None:
            raise ValueError(f"line {command.line}: curl without a URL")
        if data is not None:
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        request_method = method or ("POST" if data is not None else "GET")
        client = httpx.Client(timeout=httpx.Timeout(30.0, read=None if stream else 30.0))
        request = client.build_request(
            request_method,
            self._address(url),
            headers=headers,
            content=data.encode() if data is not None else None,
        )
        if stream:
            reader = _Stream(client, request)
            self.streams.append(reader)
            if command.background:
                return ""
            raise ValueError(f"line {command.line}: run curl -N in the background (&)")
        with client:
            response = client.send(request)
        self._remember(response.text)
        out = ""
        if include:
            out += f"HTTP/1.1 {response.status_code} {response.reason_phrase}\n"
            out += "".join(f"{k}: {v}\n" for k, v in response.headers.items()) + "\n"
        if not discard:
            out += response.text
        return out + write_out.replace("%{http_code}", str(response.status_code)).replace(
            "\\n", "\n"
        )

    def _remember(self, body: str) -> None:
        with contextlib.suppress(ValueError):
            for value in parse_values(body, relaxed=False):
                for key, text in iter_strings(value):
                    if key == "token":
                        self.variables["TOKEN"] = text

    # -- a whole block ----------------------------------------------------------------

    def check_block(self, text: str, first_line: int, page: str) -> list[str]:
        """Run a block's commands; every mismatch, named by its page line."""
        problems: list[str] = []
        steps = parse_console(text, first_line)
        if not steps:
            return [f"{page}:{first_line}: a console block without a '$ ' command"]
        streams_before = len(self.streams)
        for number, step in enumerate(steps):
            command = self.command(step.source, step.line)
            out = self.run(command)
            last = number == len(steps) - 1
            streams = self.streams[streams_before:]
            if last and streams:
                deadline = time.monotonic() + _STREAM_WAIT
                while True:
                    real = out + "".join(s.text for s in streams)
                    why = output_mismatch(step.shown, real)
                    if why is None or time.monotonic() > deadline:
                        break
                    time.sleep(0.05)
                for stream in streams:
                    stream.stop()
                    self.streams.remove(stream)
            elif command.background:
                why = "show a background command's output after the block's last command"
                why = why if step.shown.strip() else None
            else:
                why = output_mismatch(step.shown, out) if (out or step.shown.strip()) else None
            if why:
                problems.append(f"{page}:{step.line}: `{step.source}`\n{why}")
        return problems
