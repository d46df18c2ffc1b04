"""The rule-language checker, ``referenced_vars``, and evaluation's failure contract.

Rules are authored data: the checker is the gate that keeps them inside the subset, small and
shallow, and pointing at fields that exist, and it must report every problem (one message per
save) without ever raising, whatever it is fed.  Evaluation must fail only with ``LogicError``,
and ``holds`` must turn that failure into "does not hold".
"""

from __future__ import annotations

import math
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from formular.definitions import rules
from formular.definitions.rules import (
    ALLOWED_OPERATORS,
    MAX_DEPTH,
    MAX_NODES,
    LogicError,
    check_logic,
    evaluate,
    holds,
    referenced_vars,
)

FIELDS = {"smoking", "age", "score.phq9", "weight", "height", "symptoms", "0"}


def known(path: str) -> bool:
    return path in FIELDS


def problems(expression: Any, pointer: str = "") -> list[tuple[str, str]]:
    return [(p.pointer, p.keyword) for p in check_logic(expression, pointer, known)]


def nested(levels: int, leaf: Any = True, operator: str = "!") -> Any:
    node = leaf
    for _ in range(levels):
        node = {operator: [node]}
    return node


# --- What passes -----------------------------------------------------------------------


VALID = [
    {"==": [{"var": "smoking"}, "daily"]},
    {"in": ["pain", {"var": "symptoms"}]},
    {">": [{"var": "score.phq9"}, 9]},
    {
        "/": [
            {"var": "weight"},
            {"*": [{"/": [{"var": "height"}, 100]}, {"/": [{"var": "height"}, 100]}]},
        ]
    },
    {"if": [{"missing": ["age"]}, None, {">=": [{"var": ["age", 0]}, 18]}, "adult", "child"]},
    {"and": [{"!": {"var": "smoking"}}, {"!!": [{"var": "age"}]}, {"!=": [1, "2"]}]},
    {"or": [{"===": [1, 1]}, {"!==": [1, "1"]}, {"<": [0, {"var": "age"}, 120]}]},
    {"<=": [1, 2, 3]},
    {"cat": ["BMI ", {"min": [{"max": [{"-": [{"+": [1, 2]}, 1]}, 0]}, 99]}]},
    {"missing_some": [1, ["smoking", "age"]]},
    {"missing": [["smoking", "age"]]},
    {"-": {"var": "age"}},
    {"var": 0},
    {"var": 0.0},  # a whole float is the int JSON cannot tell it from
    "a literal",
    None,
    [1, "two", [3.5, False, None]],
]


@pytest.mark.parametrize("expression", VALID)
def test_subset_expressions_pass(expression: Any) -> None:
    assert check_logic(expression, "/x", known) == []


def test_every_allowed_operator_has_an_arity() -> None:
    assert set(rules._ARITY) == ALLOWED_OPERATORS


# --- Operators ---------------------------------------------------------------------------


FORBIDDEN = [
    "log", "method", "today", "date", "datetime", "rdelta", "duration", "years",
    "map", "reduce", "filter", "all", "none", "some", "merge", "count", "substr",
    "%", "?:", "_comment", "", "VAR", "eval", "__import__",
]  # fmt: skip


@pytest.mark.parametrize("operator", FORBIDDEN)
def test_forbidden_operators_are_reported(operator: str) -> None:
    found = check_logic({"and": [True, {operator: [1, 2]}]}, "/rules/3/when", known)
    assert [(p.pointer, p.keyword) for p in found] == [("/rules/3/when/and/1", "logic-operator")]
    assert found[0].params["operator"] == operator


def test_operation_objects_need_exactly_one_key() -> None:
    assert problems({"==": [1, 1], "_note": "x"}) == [("", "logic-operator")]
    assert problems({"or": [{}]}) == [("/or/0", "logic-operator")]


def test_arguments_of_a_forbidden_operator_are_still_checked() -> None:
    assert problems({"log": {"var": "nope"}}) == [("", "logic-operator"), ("/log", "unknown-field")]


# --- Arity -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "expression",
    [
        {"==": [1]}, {"!=": [1, 2, 3]}, {"===": []}, {"!==": [1]},
        {">": [3, 2, 1]}, {">=": [1]}, {"<": [1]}, {"<=": [1, 2, 3, 4]},
        {"!": [1, 2]}, {"!!": []}, {"in": ["a"]}, {"/": [1]}, {"/": [1, 2, 3]},
        {"-": [10, 2, 3]}, {"-": []}, {"and": []}, {"or": []}, {"if": [True]},
        {"+": []}, {"*": []}, {"min": []}, {"max": []}, {"cat": []},
        {"var": []}, {"var": ["a", 1, 2]}, {"missing": []}, {"missing_some": [1]},
        {"missing": [["age"], "smoking"]},
    ],
)  # fmt: skip
def test_wrong_arity_is_reported(expression: Any) -> None:
    assert problems(expression) == [("", "logic-arity")]


# --- Caps --------------------------------------------------------------------------------


def test_depth_cap() -> None:
    assert problems(nested(MAX_DEPTH)) == []
    too_deep = problems(nested(MAX_DEPTH + 1), "/when")
    assert too_deep == [("/when" + "/!/0" * MAX_DEPTH, "logic-depth")]
    # Lists are levels too.
    assert problems(nested(MAX_DEPTH - 1, leaf=[1])) == []
    assert problems(nested(MAX_DEPTH, leaf=[1])) == [("/!/0" * MAX_DEPTH, "logic-depth")]


def test_size_cap() -> None:
    assert problems({"cat": ["a"] * (MAX_NODES - 1)}) == []
    found = check_logic({"cat": ["a"] * MAX_NODES}, "/items/2/expression", known)
    assert [(p.pointer, p.keyword) for p in found] == [("/items/2/expression", "logic-size")]
    assert found[0].params == {"limit": MAX_NODES}


# --- Variables ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", [{"cat": ["sm", "oking"]}, {"var": "smoking"}, True, 1.5, [["smoking"]], None, 2**60]
)
def test_var_paths_must_be_literal(path: Any) -> None:
    found = problems({"==": [{"var": path}, 1]}, "/rules/0/when")
    assert found[0] == ("/rules/0/when/==/0", "logic-var")


def test_var_paths_must_name_known_fields() -> None:
    found = check_logic({"==": [{"var": "smokin"}, 1]}, "/rules/0/when", known)
    assert [(p.pointer, p.keyword) for p in found] == [("/rules/0/when/==/0", "unknown-field")]
    assert found[0].params == {"name": "smokin"}


def test_known_var_sees_paths_as_text() -> None:
    seen: list[str] = []
    check_logic(
        {"and": [{"var": 0}, {"var": 1.0}, {"missing": ["a.b", 2]}, {"missing_some": [1, ["c"]]}]},
        "",
        lambda path: seen.append(path) or True,
    )
    assert seen == ["0", "1", "a.b", "2", "c"]


def test_missing_names_are_checked_one_by_one() -> None:
    assert problems({"missing": ["age", "agee", {"var": "x"}]}) == [
        ("/missing/1", "unknown-field"),
        ("/missing/2", "logic-var"),
        ("/missing/2", "unknown-field"),  # the var inside is checked as an expression too
    ]
    assert problems({"missing": [["age", "agee"]]}) == [("/missing/0/1", "unknown-field")]
    assert problems({"missing_some": ["1", ["age", "nope"]]}) == [
        ("/missing_some/0", "logic-literal"),
        ("/missing_some/1/1", "unknown-field"),
    ]
    assert problems({"missing_some": [1, {"var": "symptoms"}]}) == [
        ("/missing_some/1", "logic-var")
    ]


# --- Literals ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [math.nan, math.inf, -math.inf, {1, 2}, (1, 2), b"bytes", object(), 10**400, print],
)
def test_non_json_literals_are_reported(value: Any) -> None:
    assert problems({"==": [{"var": "age"}, value]}) == [("/==/1", "logic-literal")]


def test_object_keys_must_be_text() -> None:
    assert problems({"or": [{1: [2]}]}) == [("/or/0", "logic-literal")]


# --- Every problem, with its pointer -----------------------------------------------------


def test_every_problem_is_reported_with_its_pointer() -> None:
    expression = {
        "and": [
            {"==": [{"var": "smoking"}, "daily"]},
            {"log": "x"},
            {"or": [{">": [{"var": "agee"}, 1, 2]}, {"in": [{"var": {"var": "age"}}, [math.nan]]}]},
        ]
    }
    assert problems(expression, "/rules/0/when") == [
        ("/rules/0/when/and/1", "logic-operator"),
        ("/rules/0/when/and/2/or/0", "logic-arity"),
        ("/rules/0/when/and/2/or/0/>/0", "unknown-field"),
        ("/rules/0/when/and/2/or/1/in/0", "logic-var"),
        ("/rules/0/when/and/2/or/1/in/1/0", "logic-literal"),
    ]


def test_two_bad_nodes_two_problems() -> None:
    assert problems({"if": [{"today": []}, {"var": "nope"}, 1]}, "/flags/1/when") == [
        ("/flags/1/when/if/0", "logic-operator"),
        ("/flags/1/when/if/1", "unknown-field"),
    ]


def test_pointers_escape_operator_names() -> None:
    assert problems({"and": [{"a/b~c": [{"var": "q"}]}]}) == [
        ("/and/0", "logic-operator"),
        ("/and/0/a~1b~0c/0", "unknown-field"),
    ]


# --- Hostile input -----------------------------------------------------------------------


@pytest.mark.parametrize("operator", ["!", "and", "nope"])
def test_ten_thousand_levels_are_one_problem_not_a_crash(operator: str) -> None:
    started = time.perf_counter()
    found = problems(nested(10_000, operator=operator))
    assert found[-1] == ("/" + "/".join([operator, "0"] * MAX_DEPTH), "logic-depth")
    # One depth problem; an unknown operator is also reported at each of the 20 levels above.
    assert len(found) == (1 if operator in ALLOWED_OPERATORS else MAX_DEPTH + 1)
    assert time.perf_counter() - started < 1


def test_deep_lists_and_sugar_are_one_problem() -> None:
    deep_list: Any = 1
    deep_sugar: Any = 1
    for _ in range(10_000):
        deep_list = [deep_list]
        deep_sugar = {"!": deep_sugar}
    assert [k for _, k in problems(deep_list)] == ["logic-depth"]
    assert [k for _, k in problems(deep_sugar)] == ["logic-depth"]


def test_huge_inputs_stop_at_the_size_cap() -> None:
    started = time.perf_counter()
    assert problems(list(range(2_000_000))) == [("", "logic-size")]
    assert problems({"cat": ["x"] * 2_000_000}) == [("", "logic-size")]
    assert problems({"missing": ["age"] * 2_000_000})[-1] == ("", "logic-size")
    assert problems({"a": 1, **{str(i): i for i in range(100_000)}}) == [("", "logic-operator")]
    assert time.perf_counter() - started < 5


@pytest.mark.parametrize("value", [set(), b"", 3j, object(), type, {"var": {"a"}}])
def test_wrong_types_anywhere_are_problems_not_exceptions(value: Any) -> None:
    assert problems(value)
    with pytest.raises(LogicError):
        evaluate(value, {})


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5)
    | st.sampled_from(sorted(ALLOWED_OPERATORS)),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from([*sorted(ALLOWED_OPERATORS), "log"]), children, max_size=2),
    max_leaves=30,
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(expression=JSONISH, answers=st.dictionaries(st.sampled_from(["a", "b", "age"]), JSONISH))
def test_arbitrary_input_never_raises_anything_but_logic_error(
    expression: Any, answers: dict[str, Any]
) -> None:
    check_logic(expression, "/p", known)
    referenced_vars(expression)
    try:
        evaluate(expression, answers)
    except LogicError:
        pass
    assert holds(expression, answers) in (True, False)


# --- referenced_vars ---------------------------------------------------------------------


def test_referenced_vars() -> None:
    expression = {
        "if": [
            {"missing": [["a", "b"]]},
            {"var": ["c.d", {"var": "e"}]},
            {"missing_some": [1, ["f", 2]]},
            {"and": [{"missing": ["g", "h"]}, {"var": 0}, {"var": {"cat": ["no", "pe"]}}]},
            {"log": {"var": "i"}},
        ]
    }  # fmt: skip
    assert referenced_vars(expression) == {"a", "b", "c.d", "e", "f", "2", "g", "h", "0", "i"}


def test_referenced_vars_of_literals_and_hostile_input() -> None:
    assert referenced_vars("var") == set()
    assert referenced_vars([1, {"x": 2}, {"var": ""}]) == {""}
    assert referenced_vars(nested(10_000, leaf={"var": "deep"})) == {"deep"}
    assert referenced_vars({"var": [True]}) == set()


# --- Evaluation fails only with LogicError -----------------------------------------------


@pytest.mark.parametrize(
    ("expression", "answers"),
    [
        ({"/": [1, 0]}, {}),  # ZeroDivisionError
        ({"<": [{"var": "age"}, 18]}, {"age": "seventeen"}),  # ValueError
        ({"+": [{"var": "symptoms"}, 1]}, {"symptoms": ["pain"]}),  # TypeError
        ({"in": [1, {"var": "smoking"}]}, {"smoking": "daily"}),  # TypeError
        ({"*": [{"var": "w"}, 1e308, 10]}, {"w": 10}),  # inf, not JSON
        ({"==": [{"var": "a"}, 1]}, {"a": math.nan}),  # answers that are not JSON
        ({"log": "x"}, {}),  # outside the subset: never reaches the library
        ({"today": []}, {}),
        (nested(10_000), {}),
        ({"var": "a"}, {"a": nested(5_000, leaf=[], operator="x")}),  # absurdly deep answers
    ],
)
def test_evaluate_raises_only_logic_error(expression: Any, answers: dict[str, Any]) -> None:
    with pytest.raises(LogicError):
        evaluate(expression, answers)
    assert holds(expression, answers) is False


def test_logic_errors_do_not_repeat_answers() -> None:
    """Answers are health data; messages travel to logs."""
    with pytest.raises(LogicError) as caught:
        evaluate({"<": [{"var": "diagnosis"}, 1]}, {"diagnosis": "HIV positive"})
    assert "HIV" not in str(caught.value)
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


def test_logic_error_carries_checker_problems() -> None:
    with pytest.raises(LogicError) as caught:
        evaluate({"and": [{"log": 1}, {"var": {"var": "a"}}]}, {})
    assert [p.keyword for p in caught.value.problems] == ["logic-operator", "logic-var"]
    with pytest.raises(LogicError) as caught:
        evaluate({"/": [1, 0]}, {})
    assert caught.value.problems == []


def test_holds() -> None:
    condition = {"in": ["pain", {"var": "symptoms"}]}
    assert holds(condition, {"symptoms": ["pain"]}) is True
    assert holds(condition, {"symptoms": []}) is False
    assert holds(condition, {}) is False
    assert holds({"missing": ["a"]}, {}) is True  # a non-empty list holds
    assert holds({"missing": ["a"]}, {"a": 1}) is False  # an empty one does not
    assert holds({"var": "o"}, {"o": {}}) is False


def test_evaluate_does_not_change_its_inputs() -> None:
    expression = {"==": [{"var": "w"}, 6.0]}
    answers = {"w": 6.0, "nested": {"x": [1.0]}}
    assert evaluate(expression, answers) is True
    assert expression == {"==": [{"var": "w"}, 6.0]}
    assert isinstance(expression["=="][1], float)
    assert isinstance(answers["w"], float)
    assert answers == {"w": 6.0, "nested": {"x": [1.0]}}


def test_results_are_json_numbers() -> None:
    product = evaluate({"*": [2, 3]}, {})  # the library computes 6.0
    assert product == 6
    assert isinstance(product, int)
    assert isinstance(evaluate({"/": [1, 4]}, {}), float)
    assert isinstance(evaluate({"+": [2**53, 2**53]}, {}), float)
