"""Loading a bot: a YAML file, or a folder of them merged in name order.

Loading goes in stages, each collecting every error it finds: read and parse each
file (syntax, duplicate keys), rewrite a soni 1.0 file's spellings (see
:mod:`soni.dsl._soni1`; a file in today's format is left as written), merge the
files (a flow, slot or action defined twice), validate the models (types,
required fields, unknown keys), then check the references between elements. The
models validate whatever parsed and merged, but the references are only checked
once everything before succeeded: with a file missing, "unknown flow" errors would
mostly be echoes of it. Whatever is found is raised at once as
:class:`~soni.dsl.errors.ConfigErrors`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from soni.dsl._soni1 import rewrite_file, soni1_spelling, turn_outputs_around
from soni.dsl.diagnostics import describe_value, translate
from soni.dsl.errors import ConfigError, ConfigErrors
from soni.dsl.models import BotConfig
from soni.dsl.source import Location, SourceMap, format_path
from soni.dsl.steps import SLOT_NAME_PATTERN, each_action_step
from soni.dsl.validate import validate_bot
from soni.dsl.yaml_reader import ParsedFile, parse_yaml

__all__ = ("load_bot", "parse_bot")

_SUFFIXES = (".yaml", ".yml")
_SLOT_NAME = re.compile(SLOT_NAME_PATTERN)
_SECTIONS = {"settings": "settings key", "slots": "slot", "actions": "action", "flows": "flow"}
_TOP_KEYS = "version, settings, slots, actions, flows"


def load_bot(
    path: str | os.PathLike[str],
    *,
    actions: Collection[str] | None = None,
    validators: Collection[str] | None = None,
    implicit_slots: bool = True,
) -> BotConfig:
    """Load and validate a bot.

    Args:
        path: A ``.yaml``/``.yml`` file, or a folder whose ``*.yaml``/``*.yml`` files
            (not its sub-folders or hidden files) are merged in name order.
        actions: Names of the registered action handlers; when given, the actions
            the flows call must be among them.
        validators: Names of the registered slot validators; when given, the
            validators the bot names must be among them.
        implicit_slots: Whether assigning a slot declares it (see
            :func:`~soni.dsl.validate.validate_bot`).

    Returns:
        The validated bot; its ``source_map`` locates each element.

    Raises:
        ConfigErrors: every problem found, each a ``ConfigError`` with its file,
            line and column.
    """
    display = os.fspath(path)
    root = Path(display)
    files, errors = _discover(root, display)
    parsed = [_read(file, name) for file, name in files]
    return _finish(display, parsed, errors, actions, validators, implicit_slots)


def parse_bot(
    text: str,
    *,
    path: str = "<string>",
    actions: Collection[str] | None = None,
    validators: Collection[str] | None = None,
    implicit_slots: bool = True,
) -> BotConfig:
    """Load a bot from YAML text, as if it were the file ``path``; see :func:`load_bot`.

    Raises:
        ConfigErrors: every problem found.
    """
    return _finish(path, [parse_yaml(text, path)], [], actions, validators, implicit_slots)


# Files a bot folder may hold that are not part of the bot: the labelled set the
# understanding is measured against (see soni.testing.evaluate).
_NOT_BOT_FILES = frozenset({"nlu.yaml", "nlu.yml"})


def _discover(root: Path, display: str) -> tuple[list[tuple[Path, str]], list[ConfigError]]:
    if root.is_dir():
        names = sorted(
            entry.name
            for entry in root.iterdir()
            if entry.suffix.lower() in _SUFFIXES
            and not entry.name.startswith(".")
            and entry.name.lower() not in _NOT_BOT_FILES
            and entry.is_file()
        )
        if not names:
            return [], [ConfigError(display, None, None, "no .yaml or .yml files in the folder")]
        return [(root / name, os.path.join(display, name)) for name in names], []
    if not root.exists():
        return [], [ConfigError(display, None, None, "no such file or folder")]
    if root.suffix.lower() not in _SUFFIXES:
        return [], [ConfigError(display, None, None, "expected a .yaml or .yml file or a folder")]
    return [(root, display)], []


def _read(file: Path, name: str) -> ParsedFile:
    try:
        raw = file.read_bytes()
    except OSError as exc:
        error = ConfigError(name, None, None, f"cannot read the file: {exc.strerror}")
        return ParsedFile(name, errors=[error])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        error = ConfigError(name, line, column, "the file is not valid UTF-8 text")
        return ParsedFile(name, errors=[error])
    return parse_yaml(text, name)


def _finish(
    display: str,
    parsed: list[ParsedFile],
    errors: list[ConfigError],
    actions: Collection[str] | None,
    validators: Collection[str] | None,
    implicit_slots: bool,
) -> BotConfig:
    for file in parsed:
        if soni1_spelling(file) is not None:
            rewrite_file(file)  # to today's spellings; moved elements keep their locations
    sources = [SourceMap.build(display, f.locations) for f in parsed]
    source = SourceMap(display)
    for file_source in sources:
        source = source.merged(file_source)
    for file in parsed:
        errors.extend(file.errors)
    data = _merge(parsed, sources, errors)
    turn_outputs_around(data)
    if implicit_slots:
        each_action_step(data, _outputs_into_slots)
    config: BotConfig | None = None
    try:
        config = BotConfig.model_validate(data)
    except ValidationError as exc:
        errors.extend(translate(exc, data, source))
    if config is not None and not errors:
        config._source = source
        errors.extend(
            validate_bot(
                config,
                actions=actions,
                validators=validators,
                implicit_slots=implicit_slots,
            )
        )
    if errors:
        raise ConfigErrors(sorted(errors, key=_order))
    assert config is not None
    return config


def _outputs_into_slots(step: dict[str, Any], outputs: list[str]) -> None:
    """An action step without ``map_outputs`` stores each output its action declares
    in the slot of the same name (so the outputs are slots the flow assigns).

    Not with ``implicit_slots=False``: assigning must not declare there, and the
    engine stores the result keys that are declared slots anyway.
    """
    if "map_outputs" not in step:
        step["map_outputs"] = {o: o for o in outputs if _SLOT_NAME.fullmatch(o)}


def _order(error: ConfigError) -> tuple[str, int, int]:
    return (error.path, error.line or 0, error.column or 0)


def _merge(
    parsed: list[ParsedFile], sources: list[SourceMap], errors: list[ConfigError]
) -> dict[str, Any]:
    """The files' top-level mappings as one; definitions made twice are errors."""
    merged: dict[str, Any] = {}
    defined_at: dict[tuple[str, ...], Location] = {}
    for file, source in zip(parsed, sources, strict=True):
        if not file.parsed:
            continue
        if not isinstance(file.data, dict):
            where = source.locate((0,)) if isinstance(file.data, list) and file.data else None
            errors.append(
                (where or Location(file.path, 1, 1)).error(
                    f"expected a mapping at the top of the file ({_TOP_KEYS}), "
                    f"got {describe_value(file.data)}"
                )
            )
            continue
        for key, value in file.data.items():
            at = source.locate((key,), key=True)
            if key == "version":
                if "version" in merged and str(merged["version"]) != str(value):
                    errors.append(
                        at.error(
                            f"version: {describe_value(value)} differs from "
                            f"{describe_value(merged['version'])} at {defined_at[(key,)]}"
                        )
                    )
                elif "version" not in merged:
                    merged["version"], defined_at[(key,)] = value, at
            elif key in _SECTIONS:
                _merge_section(key, value, merged, defined_at, source, errors)
            else:
                # Unknown; the models report it where it was first written.
                merged.setdefault(key, value)
    return merged


def _merge_section(
    section: str,
    value: Any,
    merged: dict[str, Any],
    defined_at: dict[tuple[str, ...], Location],
    source: SourceMap,
    errors: list[ConfigError],
) -> None:
    if value is None:  # "flows:" with nothing under it
        return
    if not isinstance(value, dict):
        errors.append(
            source.locate((section,)).error(
                f"{section}: expected a mapping of names to definitions, "
                f"got {describe_value(value)}"
            )
        )
        return
    target: dict[str, Any] = merged.setdefault(section, {})
    noun = _SECTIONS[section]
    for name, item in value.items():
        at = source.locate((section, name), key=True)
        if name in target:
            errors.append(
                at.error(
                    f"{format_path((section, name))}: {noun} {name!r} is already defined "
                    f"at {defined_at[(section, name)]}"
                )
            )
            continue
        target[name] = item
        defined_at[(section, name)] = at
