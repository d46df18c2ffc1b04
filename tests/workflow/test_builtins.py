"""The four built-in workflows: they load, they are what the definition settings name, and
what they promise the storage and translation layers holds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from formular.workflow.service import (
    ACTIONS,
    SYSTEM,
    builtin_names,
    check_workflow,
    check_workflow_file,
    load_builtin,
)

from .helpers import reachable

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "schemas"
DEFINITIONS = ROOT / "formular" / "workflow" / "definitions"


def test_the_workflow_schema_is_a_valid_2020_12_schema() -> None:
    schema = json.loads((SCHEMAS / "workflow.schema.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    assert schema["$id"] == "urn:formular:schema:workflow:1"
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_there_is_one_builtin_per_workflow_type_a_definition_can_name() -> None:
    settings = json.loads((SCHEMAS / "workflow-settings.schema.json").read_text("utf-8"))
    types = set(settings["properties"]["type"]["enum"]) - {"none"}
    assert set(builtin_names()) == types


@pytest.mark.parametrize("name", builtin_names())
def test_builtin_loads_and_is_valid(name: str) -> None:
    assert check_workflow_file(DEFINITIONS / f"{name}.json") == []
    workflow = load_builtin(name)
    assert workflow.id == name
    assert workflow.version >= 1
    assert load_builtin(name) is workflow  # cached: loaded once per process


@pytest.mark.parametrize("name", builtin_names())
def test_builtin_states_are_labelled_reachable_and_fit_storage(name: str) -> None:
    workflow = load_builtin(name)
    assert reachable(workflow) == {state.name for state in workflow.states}
    for state in workflow.states:
        assert state.label.strip()
        assert state.label[0].isupper()
        assert len(state.name) <= 30  # assignment.state is String(30)
    for event in workflow.events:
        assert len(event) <= 40  # assignment_event.event is String(40)


@pytest.mark.parametrize("name", builtin_names())
def test_builtin_names_only_known_actions_and_timers_fire_system_events(name: str) -> None:
    workflow = load_builtin(name)
    for transition in workflow.transitions:
        assert set(transition.actions) <= set(ACTIONS)
    for timer in workflow.timers:
        for state in timer.on_states:
            permissions = {t.permission for t in workflow.transitions_for(state, timer.fires)}
            assert SYSTEM in permissions, (timer.name, state)


def test_builtin_documents_are_plain_files_the_checker_accepts() -> None:
    for path in sorted(DEFINITIONS.glob("*.json")):
        assert check_workflow(json.loads(path.read_text(encoding="utf-8"))) == [], path.name


def test_unknown_builtin_is_a_lookup_error() -> None:
    with pytest.raises(LookupError):
        load_builtin("../schemas/workflow.schema")
    with pytest.raises(LookupError):
        load_builtin("nonexistent")


def test_states_have_citizen_labels_where_staff_wording_would_confuse() -> None:
    send_out = load_builtin("send-out")
    sent = send_out.state("sent")
    assert sent is not None
    assert sent.label_for("staff") == "Sent"
    assert sent.label_for("citizen") == "New"
    failed = send_out.state("failed")
    assert failed is not None
    assert failed.label_for("citizen") == failed.label
