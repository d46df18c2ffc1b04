"""The server and the browser evaluate rules alike: one table of cases, run by both.

``parity_cases.json`` is the contract of the rule language.  Each case is
``{"name", "logic", "data", "result"}``, or ``{"name", "logic", "data", "error": true}`` where
the server raises ``LogicError`` (and the browser must throw its ``LogicError``).  Python runs
it here through :func:`formular.definitions.rules.evaluate`; Node runs it through
``formular/static/js/rules.js`` (``parity.test.mjs``).  Numbers compare with a tolerance of
1e-9 (relative above 1) on both sides.

On top of the hand-written table, a seeded generator produces a few thousand random
expressions over awkward values; the server's answers become a second case file that Node must
reproduce, which is how quirks nobody thought to write down get caught.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from formular.definitions.rules import (
    ALLOWED_OPERATORS,
    LogicError,
    evaluate,
    holds,
    truthy,
)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CASES: list[dict[str, Any]] = json.loads((HERE / "parity_cases.json").read_text("utf-8"))
NODE = shutil.which("node")
needs_node = pytest.mark.skipif(NODE is None, reason="node is not on PATH: cannot run rules.js")


def close(actual: Any, expected: Any) -> bool:
    """Deep equality; numbers within 1e-9 (relative above 1); booleans are not numbers."""
    if isinstance(actual, bool) or isinstance(expected, bool):
        return actual is expected
    if isinstance(actual, (int, float)) and isinstance(expected, (int, float)):
        return abs(actual - expected) <= 1e-9 * max(1.0, abs(actual), abs(expected))
    if isinstance(actual, list) and isinstance(expected, list):
        return len(actual) == len(expected) and all(map(close, actual, expected))
    if isinstance(actual, dict) and isinstance(expected, dict):
        return actual.keys() == expected.keys() and all(
            close(actual[k], expected[k]) for k in actual
        )
    return type(actual) is type(expected) and actual == expected


def run_node(cases_file: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ}
    if cases_file is not None:
        env["FORMULAR_PARITY_CASES"] = str(cases_file)
    assert NODE is not None
    return subprocess.run(
        [NODE, "--test", "--test-reporter=tap", "tests/rules/parity.test.mjs"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def failures(output: str) -> str:
    """The failing tests of a TAP report, short enough for an assertion message."""
    lines = output.splitlines()
    picked = [i for i, line in enumerate(lines) if line.lstrip().startswith("not ok")]
    return "\n".join("\n".join(lines[i : i + 12]) for i in picked[:10]) or output[-3000:]


# --- The table, on the server ------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_server_agrees_with_table(case: dict[str, Any]) -> None:
    if case.get("error"):
        with pytest.raises(LogicError):
            evaluate(case["logic"], case["data"])
        assert holds(case["logic"], case["data"]) is False
        return
    actual = evaluate(case["logic"], case["data"])
    assert close(actual, case["result"]), f"expected {case['result']!r}, got {actual!r}"
    assert holds(case["logic"], case["data"]) is truthy(case["result"])


def test_table_is_well_formed_and_broad() -> None:
    names = [case["name"] for case in CASES]
    assert len(CASES) >= 120
    assert len(set(names)) == len(names), "case names must be unique (they are test ids)"
    for case in CASES:
        assert set(case) in (
            {"name", "logic", "data", "result"},
            {"name", "logic", "data", "error"},
        )
        assert case.get("error", True) is True
    used = set()
    stack: list[Any] = [case["logic"] for case in CASES]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            used.update(node)
            stack.extend(node.values())
    assert ALLOWED_OPERATORS <= used, f"operators without a case: {ALLOWED_OPERATORS - used}"
    assert sum(1 for case in CASES if case.get("error")) >= 20


# --- The table, in the browser's evaluator ----------------------------------------------


@needs_node
def test_browser_twin_agrees_with_table() -> None:
    completed = run_node()
    assert completed.returncode == 0, failures(completed.stdout + completed.stderr)
    assert f"# pass {len(CASES) + 1}" in completed.stdout


@needs_node
def test_node_runner_catches_a_wrong_case(tmp_path: Path) -> None:
    """Guard against a runner that passes whatever it is given."""
    wrong = [
        {"name": "deliberately wrong", "logic": {"+": [1, 1]}, "data": {}, "result": 3},
        {"name": "deliberately not an error", "logic": {"+": [1, 1]}, "data": {}, "error": True},
        {"name": "right", "logic": {"+": [1, 1]}, "data": {}, "result": 2},
    ]
    cases_file = tmp_path / "wrong.json"
    cases_file.write_text(json.dumps(wrong), "utf-8")
    completed = run_node(cases_file)
    assert completed.returncode != 0
    assert "# fail 2" in completed.stdout
    assert "# pass 2" in completed.stdout  # "right" and the non-empty check


# --- Generated differential cases --------------------------------------------------------

#: Awkward values: numeric and non-numeric text, whole and fractional floats, Python-ish
#: words, other scripts, quotes and control characters, empty and nested containers.
VALUES: list[Any] = [
    None, True, False, 0, 1, -1, 2, 3, 10, 2.5, 0.1, -0.5, 6.0, 1e16, 1e-5, 123.456,
    "", "0", "1", "2", "10", "1.0", "2.5", " 3 ", "-4", "abc", "a", "B", "None", "True", "false",
    "1e3", "1.5e3", "1_000", "inf", "nan", "١٢", "é", "😀", "it's", 'say "hi"\n', "\x00\t",
    [], [1, 2], ["a", "b"], [1, "1"], [None], [[1], 2], [2.5, True],
    {}, {"a": 1}, {"x": [1, 2], "y": "z"},
]  # fmt: skip
KEYS = ["a", "b", "n", "s", "l", "o"]
PATHS = [*KEYS, "o.a", "o.x.0", "o.x.-1", "l.0", "l.-1", "l.9", "s.0", "s. 1", "zz", "o.zz.y", ""]
OPERATORS = sorted(ALLOWED_OPERATORS - {"var", "missing", "missing_some"})
ARITY = {"==": 2, "!=": 2, "===": 2, "!==": 2, ">": 2, ">=": 2, "!": 1, "!!": 1, "in": 2, "/": 2}


def literal(rng: random.Random) -> Any:
    value = rng.choice(VALUES)
    # A literal object would be read as an operation; lists may not hold objects either.
    while isinstance(value, dict) or (
        isinstance(value, list) and any(isinstance(v, dict) for v in value)
    ):
        value = rng.choice(VALUES)
    return value


def expression(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if depth >= 4 or roll < 0.25:
        return literal(rng)
    if roll < 0.5:
        path = rng.choice(PATHS)
        return {"var": [path, literal(rng)]} if rng.random() < 0.15 else {"var": path}
    if roll < 0.55:
        names = rng.sample(PATHS, rng.randint(1, 3))
        if rng.random() < 0.5:
            return {"missing_some": [rng.randint(0, 2), names]}
        return {"missing": [names] if rng.random() < 0.3 else names}
    operator = rng.choice(OPERATORS)
    if operator in ARITY:
        count = ARITY[operator]
    elif operator in ("<", "<="):
        count = rng.choice([2, 2, 3])
    elif operator == "-":
        count = rng.choice([1, 2, 2])
    elif operator == "if":
        count = rng.randint(2, 5)
    else:
        count = rng.randint(1, 3)
    args = [expression(rng, depth + 1) for _ in range(count)]
    return {operator: args[0] if count == 1 and rng.random() < 0.3 else args}


def data(rng: random.Random) -> dict[str, Any]:
    answers = {key: rng.choice(VALUES) for key in rng.sample(KEYS, rng.randint(0, len(KEYS)))}
    if rng.random() < 0.5:
        answers["o"] = {"a": rng.choice(VALUES), "x": [rng.choice(VALUES), rng.choice(VALUES)]}
    return answers


def generated_cases(seed: int, count: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    cases = []
    for i in range(count):
        logic, answers = expression(rng), data(rng)
        case: dict[str, Any] = {"name": f"generated {seed}/{i}", "logic": logic, "data": answers}
        try:
            case["result"] = evaluate(logic, answers)
        except LogicError:
            case["error"] = True
        cases.append(case)
    return cases


@needs_node
def test_browser_twin_agrees_on_generated_cases(tmp_path: Path) -> None:
    cases = generated_cases(seed=20240611, count=3000)
    errors = sum(1 for case in cases if case.get("error"))
    # Both outcomes must be well represented, or the comparison proves little.
    assert 300 < errors < 2700, errors
    cases_file = tmp_path / "generated.json"
    cases_file.write_text(json.dumps(cases, ensure_ascii=False), "utf-8")
    completed = run_node(cases_file)
    assert completed.returncode == 0, failures(completed.stdout + completed.stderr)


if __name__ == "__main__":  # pragma: no cover - a helper to look at generated cases
    json.dump(generated_cases(int(sys.argv[1]), int(sys.argv[2])), sys.stdout, indent=1)
