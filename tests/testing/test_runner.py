"""The runner: fresh bots per test, stubs, preset slots, checks before running, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from soni.dsl.errors import ConfigErrors
from soni.engine import Bot
from soni.testing import (
    ConversationResult,
    ConversationTestErrors,
    load_test_file,
    run_file,
    run_test,
    run_tests,
)

from .conftest import WriteTests

ORDER_STEPS = """
    steps:
      - user: "i want to order tea"
      - user: "2"
      - approve: true
"""


async def test_stubs_replace_handlers_for_their_test_only(
    shop: Path, write_tests: WriteTests
) -> None:
    path = write_tests(
        "tests:\n  - name: stubbed\n    stub_actions: {place_order: {reference: STUB-1}}"
        + ORDER_STEPS
        + '      - bot: "Ordered 2 tea: STUB-1."\n'
        + "      - slot: {reference: STUB-1}\n"
        + "  - name: real"
        + ORDER_STEPS
        + '      - bot: "Ordered 2 tea: ORD-2-tea."\n'
    )
    report = await run_tests(shop, [path])
    assert [(r.name, r.passed) for r in report.results] == [("stubbed", True), ("real", True)]


async def test_a_stub_can_stand_in_for_a_handler_that_does_not_exist(
    shop: Path, write_tests: WriteTests
) -> None:
    bot = shop / "bot.yaml"
    bot.write_text(
        bot.read_text()
        + "  quote:\n"
        + '    trigger: {intents: ["quote me"]}\n'
        + "    steps:\n"
        + "      - {step: ask, type: action, call: get_quote, map_outputs: {price: stock}}\n"
        + '      - {step: tell, type: say, message: "It costs {stock}."}\n'
    )
    stubbed = write_tests(
        "tests:\n  - name: q\n    stub_actions: {get_quote: {price: 12}}\n"
        '    steps: [{user: "quote me"}, {action_executed: get_quote}, {bot: "It costs 12."}]\n'
    )
    report = await run_tests(shop, [stubbed])
    assert report.ok, report.results[0].failure
    # Without the stub the bot itself does not load: its flow calls an unknown action.
    bare = write_tests("tests:\n  - name: q\n    steps: [{user: quote me}]\n")
    with pytest.raises(ConfigErrors, match="get_quote") as caught:
        await run_tests(shop, [bare])
    assert not isinstance(caught.value, ConversationTestErrors)


async def test_preset_slots_are_set_before_the_first_step(
    shop: Path, write_tests: WriteTests
) -> None:
    path = write_tests(
        """
        tests:
          - name: preset
            slots: {customer: Ann, delivery: "2030-05-01"}
            steps:
              - user: "hello"
              - bot: "Hello Ann!"
              - bot: "Delivery on 2030-05-01."
          - name: not shared
            steps:
              - user: "hello"
              - bot: "Hello !"
              - slot: {customer: null}
          - name: a flow asks anew for the slots it collects
            slots: {item: tea}
            steps:
              - slot: {item: tea}
              - user: "order something"
              - bot: "What would you like?"
              - slot: {item: null}
        """
    )
    report = await run_tests(shop, [path])
    assert [r.failure for r in report.results] == [None, None, None]


async def test_a_preset_the_bot_refuses_fails_the_test(shop: Path, write_tests: WriteTests) -> None:
    path = write_tests("tests:\n  - name: t\n    slots: {quantity: -1}\n    steps: [{user: hi}]\n")
    (result,) = (await run_tests(shop, [path])).results
    assert result.failure is not None
    assert (result.failure.index, result.failure.step, result.failure.line) == (
        0,
        "slots: {quantity: -1}",
        3,
    )
    assert result.failure.expected == "the preset slots to be set (quantity)"
    assert result.failure.actual == "the bot said ['At least one, please.']"


async def test_names_the_bot_lacks_are_reported_before_anything_runs(
    shop: Path, write_tests: WriteTests
) -> None:
    good = write_tests("tests:\n  - name: fine\n    steps: [{user: hello}]\n")
    bad = write_tests(
        """
        tests:
          - name: t
            slots: {custmer: Ann}
            stub_actions: {place_ordr: {}}
            steps:
              - pending: {action: place_ordr}
              - action_executed: chek_stock
              - action_failed: nothing_like_it
              - choose: "Refund"
              - slot: {quantty: 1}
              - flow: gret
        """
    )
    seen: list[ConversationResult] = []
    with pytest.raises(ConversationTestErrors) as caught:
        await run_tests(shop, [good, bad], on_result=seen.append)
    assert seen == []  # not even the good file ran
    name = str(bad)
    assert [str(e) for e in caught.value.errors] == [
        f"{name}:3:13: tests[0].slots: the bot has no slot named 'custmer' "
        "(did you mean 'customer'?)",
        f"{name}:4:20: tests[0].stub_actions: the bot never calls an action named "
        "'place_ordr' (did you mean 'place_order'?)",
        f"{name}:6:9: tests[0].steps[0]: pending: the bot never calls an action named "
        "'place_ordr' (did you mean 'place_order'?)",
        f"{name}:7:9: tests[0].steps[1]: action_executed: the bot never calls an action named "
        "'chek_stock' (did you mean 'check_stock'?)",
        f"{name}:8:9: tests[0].steps[2]: action_failed: the bot never calls an action named "
        "'nothing_like_it'",
        f"{name}:9:9: tests[0].steps[3]: choose: no choose step of the bot offers 'Refund' "
        "(did you mean 'Refund it'?)",
        f"{name}:10:9: tests[0].steps[4]: slot: the bot has no slot named 'quantty' "
        "(did you mean 'quantity'?)",
        f"{name}:11:9: tests[0].steps[5]: flow: the bot has no flow named 'gret' "
        "(did you mean 'greet'?)",
    ]


async def test_a_broken_bot_is_a_config_error(shop: Path, write_tests: WriteTests) -> None:
    (shop / "bot.yaml").write_text("flows: {x: {steps: [{step: a, type: sya}]}}\n")
    path = write_tests("tests:\n  - name: t\n    steps: [{user: hi}]\n")
    with pytest.raises(ConfigErrors, match="unknown step type 'sya'"):
        await run_tests(shop, [path])


async def test_the_default_files_are_the_bots_tests_folder(
    shop: Path, write_tests: WriteTests
) -> None:
    write_tests("tests:\n  - name: b\n    steps: [{user: hello}]\n")
    write_tests("tests:\n  - name: a\n    steps: [{user: hello}]\n")
    (shop / "tests" / "notes.txt").write_text("not a test")
    seen: list[str] = []
    report = await run_tests(shop, on_result=lambda r: seen.append(r.name))
    assert seen == ["b", "a"]  # case1.yaml, then case2.yaml
    assert report.ok and report.passed == 2 and report.failed == 0
    assert report.summary().startswith("2 passed in ")
    # A bot given as its file: the tests folder beside it.
    report = await run_tests(shop / "bot.yaml")
    assert report.passed == 2


async def test_one_file_or_one_test(shop: Path, write_tests: WriteTests) -> None:
    path = write_tests(
        "tests:\n"
        "  - {name: one, steps: [{user: hello}, {bot: 'Hello !'}]}\n"
        "  - {name: two, steps: [{user: hello}, {bot: 'Bye'}]}\n"
    )
    loaded = load_test_file(path)
    assert [r.passed for r in await run_file(shop, loaded)] == [True, False]
    only = await run_test(shop, loaded, 1)
    assert (only.name, only.passed, only.line) == ("two", False, 3)


async def test_a_step_that_raises_fails_its_test_and_the_others_run(
    shop: Path, write_tests: WriteTests, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = Bot.handle

    async def handle(self: Bot, conversation_id: str, text: str, **kw: object) -> object:
        if text == "boom":
            raise RuntimeError("the channel broke")
        return await real(self, conversation_id, text, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(Bot, "handle", handle)
    path = write_tests(
        "tests:\n"
        "  - {name: broken, steps: [{user: boom}]}\n"
        "  - {name: fine, steps: [{user: hello}, {bot: 'Hello !'}]}\n"
    )
    broken, fine = (await run_tests(shop, [path])).results
    assert broken.failure is not None
    assert broken.failure.expected == "the step to run"
    assert broken.failure.actual == "it raised RuntimeError: the channel broke"
    assert fine.passed


async def test_results_as_data(shop: Path, write_tests: WriteTests) -> None:
    path = write_tests("tests:\n  - {name: t, steps: [{user: hello}, {bot: Bye}]}\n")
    report = await run_tests(shop, [path])
    data = report.to_dict()
    assert (data["passed"], data["failed"]) == (0, 1)
    (test,) = data["tests"]
    assert test["name"] == "t" and test["passed"] is False and test["line"] == 2
    assert test["failure"]["step"] == "bot: 'Bye'"
    assert test["failure"]["observed"]["replies"] == ["Hello !", "Delivery on ."]
    assert test["failure"]["observed"]["checked"] == 1
