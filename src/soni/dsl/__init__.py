"""The bot language: pydantic models, loading YAML files and folders, validation with
``file:line:col`` errors, slot types, and the compilers of its expressions, templates
and case patterns. (The slot validators registered from Python live with the action
handlers, in :mod:`soni.actions`; their names are kept here too.)"""

from soni.actions.validators import (
    ValidatorRegistry,
    ValidatorSpec,
    default_registry,
    default_validators,
    validator,
)
from soni.dsl.loader import load_bot, parse_bot
from soni.dsl.models import (
    ActionDef,
    ActionStep,
    BotConfig,
    BranchStep,
    CallStep,
    ChooseOption,
    ChooseStep,
    CollectStep,
    ConfirmationSettings,
    ConfirmStep,
    EndStep,
    FlowDef,
    LinkStep,
    NluSettings,
    PersistenceSettings,
    SayStep,
    SetStep,
    Settings,
    SlotDef,
    Step,
    Trigger,
    WhileStep,
)
from soni.dsl.slot_types import SLOT_TYPES, SlotKind, coerce, normalise_choices, slot_kind
from soni.dsl.source import Location, SourceMap
from soni.dsl.steps import END, STEP_TYPES
from soni.dsl.validate import validate_bot

__all__ = (
    "END",
    "SLOT_TYPES",
    "STEP_TYPES",
    "ActionDef",
    "ActionStep",
    "BotConfig",
    "BranchStep",
    "CallStep",
    "ChooseOption",
    "ChooseStep",
    "CollectStep",
    "ConfirmStep",
    "ConfirmationSettings",
    "EndStep",
    "FlowDef",
    "LinkStep",
    "Location",
    "NluSettings",
    "PersistenceSettings",
    "SayStep",
    "SetStep",
    "Settings",
    "SlotDef",
    "SlotKind",
    "SourceMap",
    "Step",
    "Trigger",
    "ValidatorRegistry",
    "ValidatorSpec",
    "WhileStep",
    "coerce",
    "default_registry",
    "default_validators",
    "load_bot",
    "normalise_choices",
    "parse_bot",
    "slot_kind",
    "validate_bot",
    "validator",
)
