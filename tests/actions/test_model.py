"""The registry agrees with a model of two dicts under any sequence of writes."""

from collections.abc import Callable
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from soni import ActionRegistry


def alpha() -> None: ...


def beta(slots: dict) -> None: ...


def gamma(amount: float, ctx: Any = None) -> None: ...


async def delta(name: str = "x") -> None: ...


NAMES = st.sampled_from(["a", "b", "c", "d"])
HANDLERS = st.sampled_from([alpha, beta, gamma, delta])


class RegistryMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        # Every example starts from an empty global map; the conftest fixture
        # restores the process's map after the whole test.
        ActionRegistry._replace_global({})
        self.registry = ActionRegistry()
        self.other = ActionRegistry()
        self.global_model: dict[str, Callable[..., Any]] = {}
        self.local_model: dict[str, Callable[..., Any]] = {}

    @rule(name=NAMES, handler=HANDLERS)
    def register_global(self, name: str, handler: Callable[..., Any]) -> None:
        self.registry.register(name)(handler)
        self.global_model[name] = handler

    @rule(name=NAMES, handler=HANDLERS)
    def register_local(self, name: str, handler: Callable[..., Any]) -> None:
        self.registry.register_local(name, handler)
        self.local_model[name] = handler

    @rule(name=NAMES)
    def unregister(self, name: str) -> None:
        assert ActionRegistry.unregister(name) is (name in self.global_model)
        self.global_model.pop(name, None)

    @rule(name=NAMES)
    def unregister_local(self, name: str) -> None:
        assert self.registry.unregister_local(name) is (name in self.local_model)
        self.local_model.pop(name, None)

    @rule()
    def clear_global(self) -> None:
        assert ActionRegistry.clear_global() == len(self.global_model)
        self.global_model.clear()

    @rule()
    def clear_local(self) -> None:
        assert self.registry.clear_local() == len(self.local_model)
        self.local_model.clear()

    @invariant()
    def agrees_with_the_model(self) -> None:
        merged = {**self.global_model, **self.local_model}
        for name in ["a", "b", "c", "d"]:
            assert self.registry.get(name) is merged.get(name)
            assert (name in self.registry) is (name in merged)
            spec = self.registry.get_spec(name)
            if name in self.local_model:
                assert spec is not None
                assert spec.scope == "local"
            elif name in self.global_model:
                assert spec is not None
                assert spec.scope == "global"
            else:
                assert spec is None
            # Another instance sees the global map only.
            assert self.other.get(name) is self.global_model.get(name)
        assert self.registry.list_actions() == {
            "global": sorted(self.global_model),
            "local": sorted(self.local_model),
        }
        assert self.other.list_actions() == {"global": sorted(self.global_model), "local": []}
        assert len(self.registry) == len(merged)


RegistryMachine.TestCase.settings = settings(
    max_examples=100,
    stateful_step_count=30,
    deadline=None,
    database=None,
)
TestRegistryModel = RegistryMachine.TestCase
