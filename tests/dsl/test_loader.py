"""Loading files and folders: discovery, YAML problems, merging, error reporting."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from soni.dsl import load_bot, parse_bot
from soni.dsl.errors import ConfigError, ConfigErrors
from soni.errors import SoniError

from ._helpers import MINIMAL_FLOW, config_errors, messages, write

# -- folders ------------------------------------------------------------------------


def test_a_folder_merges_its_yaml_files_in_name_order(workdir: Path) -> None:
    write(workdir / "bot" / "20-flows.yml", MINIMAL_FLOW)
    write(
        workdir / "bot" / "00-settings.yaml",
        """
        version: "1.0"
        settings:
          persistence: {backend: memory}
        """,
    )
    write(
        workdir / "bot" / "10-slots.yaml",
        """
        settings:
          confirmations: {ttl: 60}
        slots:
          amount: {type: float}
        """,
    )
    write(workdir / "bot" / "notes.txt", "not: [yaml")
    write(workdir / "bot" / ".hidden.yaml", "not: [yaml")
    write(workdir / "bot" / "nested" / "x.yaml", "not: [yaml")
    write(workdir / "bot" / "nlu.yaml", "cases: [{text: hi, expect: [help]}]")  # a labelled set

    bot = load_bot("bot")

    assert bot.settings.persistence.backend == "memory"
    assert bot.settings.confirmations.ttl == 60
    assert list(bot.slots) == ["amount"]
    assert list(bot.flows) == ["greet"]
    assert bot.source_map is not None
    assert bot.source_map.origin == "bot"
    location = bot.source_map.locate(("slots", "amount"), key=True)
    assert str(location) == "bot/10-slots.yaml:4:3"


def test_flows_slots_and_actions_from_several_files_are_all_kept(workdir: Path) -> None:
    write(workdir / "bot" / "a.yaml", MINIMAL_FLOW, "slots: {x: {}}\nactions: {a: {}}\n")
    write(
        workdir / "bot" / "b.yaml",
        MINIMAL_FLOW.replace("greet", "bye"),
        "slots: {y: {}}\nactions: {b: {}}\n",
    )

    bot = load_bot(workdir / "bot")

    assert list(bot.flows) == ["greet", "bye"]
    assert list(bot.slots) == ["x", "y"]
    assert list(bot.actions) == ["a", "b"]


def test_a_flow_defined_in_two_files_names_both_places(workdir: Path) -> None:
    write(workdir / "bot" / "10-flows.yaml", MINIMAL_FLOW)
    write(workdir / "bot" / "20-more.yaml", "# more\n", MINIMAL_FLOW)

    assert messages("bot") == [
        "bot/20-more.yaml:3:3: flows.greet: flow 'greet' is already defined at "
        "bot/10-flows.yaml:2:3"
    ]


def test_a_slot_and_an_action_defined_twice_name_both_places(workdir: Path) -> None:
    write(workdir / "bot" / "a.yaml", MINIMAL_FLOW, "slots:\n  amount: {}\nactions:\n  pay: {}\n")
    write(workdir / "bot" / "b.yaml", "actions:\n  pay: {}\nslots:\n  amount: {}\n")

    assert messages("bot") == [
        "bot/b.yaml:2:3: actions.pay: action 'pay' is already defined at bot/a.yaml:10:3",
        "bot/b.yaml:4:3: slots.amount: slot 'amount' is already defined at bot/a.yaml:8:3",
    ]


def test_settings_merge_but_a_key_set_twice_names_both_places(workdir: Path) -> None:
    write(workdir / "bot" / "a.yaml", "settings:\n  nlu: {engine: rules}\n", MINIMAL_FLOW)
    write(workdir / "bot" / "b.yaml", "settings:\n  logging: {}\n  nlu: {engine: llm}\n")

    assert messages("bot") == [
        "bot/b.yaml:3:3: settings.nlu: settings key 'nlu' is already defined at bot/a.yaml:2:3"
    ]


def test_versions_must_agree_across_files(workdir: Path) -> None:
    write(workdir / "bot" / "a.yaml", 'version: "1.0"\n', MINIMAL_FLOW)
    write(workdir / "bot" / "b.yaml", 'version: "1.0"\n')
    write(workdir / "bot" / "c.yaml", 'version: "2.0"\n')

    assert messages("bot") == [
        "bot/c.yaml:1:1: version: '2.0' differs from '1.0' at bot/a.yaml:1:1"
    ]


def test_a_section_that_is_not_a_mapping_is_an_error(workdir: Path) -> None:
    write(workdir / "bot" / "a.yaml", MINIMAL_FLOW)
    write(workdir / "bot" / "b.yaml", "slots:\n  - amount\n")

    assert messages("bot") == [
        "bot/b.yaml:2:3: slots: expected a mapping of names to definitions, got a list"
    ]


def test_an_empty_section_is_allowed(workdir: Path) -> None:
    write(workdir / "bot.yaml", "slots:\nactions:\n", MINIMAL_FLOW)

    assert load_bot("bot.yaml").slots == {}


# -- what cannot be loaded ------------------------------------------------------------


def test_a_missing_path(workdir: Path) -> None:
    [error] = config_errors("nowhere.yaml")

    assert (error.path, error.line, error.column) == ("nowhere.yaml", None, None)
    assert str(error) == "nowhere.yaml: no such file or folder"


def test_a_folder_without_yaml_files(workdir: Path) -> None:
    write(workdir / "bot" / "readme.md", "# hi")

    assert messages("bot") == ["bot: no .yaml or .yml files in the folder"]


def test_a_file_that_is_not_yaml(workdir: Path) -> None:
    write(workdir / "bot.json", "{}")

    assert messages("bot.json") == ["bot.json: expected a .yaml or .yml file or a folder"]


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "---\n"])
def test_an_empty_file(workdir: Path, text: str) -> None:
    (workdir / "bot.yaml").write_text(text)

    assert messages("bot.yaml") == ["bot.yaml: the file is empty"]


def test_an_empty_file_in_a_folder_is_reported_with_the_others(workdir: Path) -> None:
    write(workdir / "bot" / "a.yaml", MINIMAL_FLOW)
    (workdir / "bot" / "b.yaml").write_text("")

    assert messages("bot") == ["bot/b.yaml: the file is empty"]


def test_a_file_holding_a_list(workdir: Path) -> None:
    write(workdir / "bot.yaml", "# steps\n- step: a\n  type: say\n")

    assert messages("bot.yaml") == [
        "bot.yaml:2:3: expected a mapping at the top of the file "
        "(version, settings, slots, actions, flows), got a list"
    ]


def test_a_file_holding_text(workdir: Path) -> None:
    write(workdir / "bot.yaml", "hello\n")

    assert messages("bot.yaml") == [
        "bot.yaml:1:1: expected a mapping at the top of the file "
        "(version, settings, slots, actions, flows), got 'hello'"
    ]


def test_a_file_that_is_not_utf8(workdir: Path) -> None:
    (workdir / "bot.yaml").write_bytes(b"flows:\n  caf\xe9: {}\n")

    assert messages("bot.yaml") == ["bot.yaml:2:6: the file is not valid UTF-8 text"]


def test_a_utf8_byte_order_mark_is_fine(workdir: Path) -> None:
    (workdir / "bot.yaml").write_bytes("\ufeff".encode() + MINIMAL_FLOW.lstrip().encode())

    assert list(load_bot("bot.yaml").flows) == ["greet"]


# -- YAML syntax --------------------------------------------------------------------


def test_a_tab_in_the_indentation_is_reported_at_its_line(workdir: Path) -> None:
    write(workdir / "bot.yaml", "flows:\n  greet:\n\tsteps: []\n")

    assert messages("bot.yaml") == [
        "bot.yaml:3:1: tab character in the indentation; YAML indents with spaces only"
    ]


def test_an_unclosed_bracket_names_where_it_opened(workdir: Path) -> None:
    write(workdir / "bot.yaml", "slots:\n  a: {type: int\n\nflows: {}\n")

    [message] = messages("bot.yaml")

    assert message.startswith("bot.yaml:4:6: invalid YAML: expected ',' or '}'")
    assert message.endswith("(while parsing a flow mapping on line 2)")


def test_a_colon_in_plain_text_suggests_quoting(workdir: Path) -> None:
    write(workdir / "bot.yaml", "flows:\n  f:\n    description: note: this\n")

    assert messages("bot.yaml") == [
        "bot.yaml:3:22: invalid YAML: mapping values are not allowed here; "
        "a text containing ': ' must be quoted"
    ]


def test_two_documents_in_one_file(workdir: Path) -> None:
    write(workdir / "bot.yaml", MINIMAL_FLOW, "---\nslots: {}\n")

    [message] = messages("bot.yaml")

    assert message.startswith("bot.yaml:7:1: more than one YAML document")


def test_a_duplicate_key_names_both_lines(workdir: Path) -> None:
    write(
        workdir / "bot.yaml",
        """
        flows:
          greet:
            steps:
              - step: hello
                type: say
                message: "Hello!"
                message: "Hi!"
        """,
    )

    assert messages("bot.yaml") == [
        "bot.yaml:7:9: flows.greet.steps[0]: duplicate key 'message' (first defined on line 6)"
    ]


def test_a_flow_defined_twice_in_one_file_is_a_duplicate_key(workdir: Path) -> None:
    write(
        workdir / "bot.yaml",
        """
        flows:
          greet:
            steps: [{step: a, type: end}]
          greet:
            steps: [{step: b, type: end}]
        """,
    )

    assert messages("bot.yaml") == [
        "bot.yaml:4:3: flows: duplicate key 'greet' (first defined on line 2)"
    ]


def test_unsupported_tags_are_errors(workdir: Path) -> None:
    write(workdir / "bot.yaml", "version: !!python/object:os.system echo\n", MINIMAL_FLOW)

    assert messages("bot.yaml") == [
        "bot.yaml:1:10: version: unsupported tag '!!python/object:os.system'"
    ]


def test_anchors_aliases_and_merge_keys_work(workdir: Path) -> None:
    write(
        workdir / "bot.yaml",
        """
        slots:
          amount: &money {type: float, validator: positive}
          fee:
            <<: *money
            validator: non_negative
        """,
        MINIMAL_FLOW,
    )

    bot = load_bot("bot.yaml")

    assert bot.slots["fee"].kind == "float"
    assert bot.slots["fee"].validator == "non_negative"


def test_yaml_1_1_booleans_and_sexagesimals_stay_text(workdir: Path) -> None:
    write(
        workdir / "bot.yaml",
        """
        slots:
          answer: {choices: [yes, no, on, off, y, n]}
          time: {default: 1:30}
          day: {type: date, default: 2024-01-31}
        """,
        MINIMAL_FLOW,
    )

    bot = load_bot("bot.yaml")

    assert list(bot.slots["answer"].choices or {}) == ["yes", "no", "on", "off", "y", "n"]
    assert bot.slots["time"].default == "1:30"
    assert bot.slots["day"].default == "2024-01-31"


# -- errors all together ---------------------------------------------------------------


def test_every_error_of_every_file_is_reported_at_once_in_order(workdir: Path) -> None:
    write(workdir / "bot" / "00-settings.yaml", "settings:\n  confirmations: {ttl: abc}\n")
    write(workdir / "bot" / "10-broken.yaml", "flows: [\n")
    write(
        workdir / "bot" / "20-flows.yaml",
        """
        flows:
          greet:
            steps:
              - {step: a, type: say}
              - {step: b, type: sya, message: hi}
        """,
    )

    with pytest.raises(ConfigErrors) as info:
        load_bot("bot")

    assert [error.location for error in info.value.errors] == [
        "bot/00-settings.yaml:2:24",
        "bot/10-broken.yaml:2:1",
        "bot/20-flows.yaml:4:9",
        "bot/20-flows.yaml:5:19",
    ]
    assert str(info.value).splitlines() == [
        "4 errors in the bot configuration:",
        "  bot/00-settings.yaml:2:24: settings.confirmations.ttl: "
        "expected a number for 'ttl', got 'abc'",
        "  bot/10-broken.yaml:2:1: invalid YAML: expected the node content, "
        "but found '<stream end>' (while parsing a flow node)",
        "  bot/20-flows.yaml:4:9: flows.greet.steps[0]: missing required field 'message' "
        "in a say step",
        "  bot/20-flows.yaml:5:19: flows.greet.steps[1]: unknown step type 'sya' "
        "(did you mean 'say'?)",
    ]


def test_config_errors_are_soni_errors_with_attributes() -> None:
    error = ConfigError("bot.yaml", 3, 7, "flows.f: bad")
    group = ConfigErrors([error])

    assert isinstance(error, SoniError)
    assert isinstance(group, SoniError)
    assert (error.path, error.line, error.column, error.message) == (
        "bot.yaml",
        3,
        7,
        "flows.f: bad",
    )
    assert error.location == "bot.yaml:3:7"
    assert str(error) == "bot.yaml:3:7: flows.f: bad"
    assert str(ConfigError("bot.yaml", 3, None, "x")) == "bot.yaml:3: x"
    assert str(group) == "1 error in the bot configuration:\n  bot.yaml:3:7: flows.f: bad"
    assert group.errors == (error,)


def test_config_errors_survive_pickling() -> None:
    group = ConfigErrors([ConfigError("bot.yaml", 3, 7, "bad")])

    copy = pickle.loads(pickle.dumps(group))

    assert str(copy) == str(group)
    assert copy.errors[0].line == 3


def test_parse_bot_reads_text_as_a_named_file() -> None:
    assert list(parse_bot(MINIMAL_FLOW, path="inline.yaml").flows) == ["greet"]
    with pytest.raises(ConfigErrors) as info:
        parse_bot("flows: {f: {steps: [{step: a, type: say}]}}\n", path="inline.yaml")

    assert str(info.value.errors[0]).startswith("inline.yaml:1:21: flows.f.steps[0]: missing")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("flows: !!python/object:os.system {}\n", "bot.yaml:1:8: flows: unsupported tag"),
        ("flows:\n  greet: !custom\n    - a\n", "bot.yaml:2:10: flows.greet: unsupported tag"),
    ],
)
def test_tags_on_mappings_and_lists_are_errors(workdir: Path, text: str, expected: str) -> None:
    # Dropping the tag silently would load the value as if it were not there.
    write(workdir / "bot.yaml", text)

    assert any(message.startswith(expected) for message in messages("bot.yaml"))


@pytest.mark.parametrize("depth", [150, 800, 5000])
@pytest.mark.slow  # documents thousands of levels deep
def test_deeply_nested_yaml_is_an_error_not_a_crash(workdir: Path, depth: int) -> None:
    # PyYAML composes nesting recursively; past Python's stack it raised RecursionError.
    nested = "[" * depth + "]" * depth
    write(workdir / "bot.yaml", f"slots:\n  x: {nested}\n", MINIMAL_FLOW)

    assert any("nests lists and mappings too deeply" in m for m in messages("bot.yaml"))
