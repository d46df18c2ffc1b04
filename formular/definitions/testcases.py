"""Running a definition's own test cases: "given these answers, expect this".

Designers write test cases in the definition (``tests``); the checker runs them with the same
compiled plans the platform uses, so a passing test case is a statement about production
behaviour, not about a second implementation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .problems import Problem, pointer_join
from .scores import Subject

if TYPE_CHECKING:
    from .compiler import CompiledDefinition


def run_test_cases(compiled: CompiledDefinition) -> list[Problem]:
    """Every failed expectation of every test case, as problems at ``/tests/<n>``."""
    problems: list[Problem] = []
    for number, case in enumerate(compiled.document.get("tests", [])):
        where = pointer_join("tests", number)
        subject = Subject(**case.get("subject", {}))
        result = compiled.validate(
            case["answers"], audience=case.get("audience", "citizen"), subject=subject
        )

        def fail(message: str, case: Any = case, where: str = where) -> None:
            problems.append(Problem(where, "test-case", f"{case['name']}: {message}"))

        expect = case["expect"]
        error_paths = {"/".join(str(p) for p in e.path) for e in result.errors}
        if "valid" in expect and expect["valid"] != result.ok:
            fail(f"expected {'valid' if expect['valid'] else 'invalid'}, got errors "
                 f"{sorted(error_paths) or 'none'}")
        for path in expect.get("errors", []):
            if path not in error_paths:
                fail(f"expected an error at {path!r}; errors: {sorted(error_paths) or 'none'}")
        for element in expect.get("visible", []):
            if element in result.evaluation.hidden:
                fail(f"expected {element!r} visible, it is hidden")
        for element in expect.get("hidden", []):
            if element not in result.evaluation.hidden:
                fail(f"expected {element!r} hidden, it is visible")
        for score_id, value in expect.get("scores", {}).items():
            got = result.scoring.scores.get(score_id)
            if got is None:
                fail(f"no score {score_id!r}")
            elif got.value != value:
                fail(f"score {score_id!r}: expected {value}, got {got.value}")
        for score_id, band in expect.get("bands", {}).items():
            got = result.scoring.scores.get(score_id)
            got_band = got.band.id if got and got.band else None
            if got_band != band:
                fail(f"band of {score_id!r}: expected {band!r}, got {got_band!r}")
        if "flags" in expect:
            raised = sorted(flag.id for flag in result.scoring.flags)
            if raised != sorted(expect["flags"]):
                fail(f"flags: expected {sorted(expect['flags'])}, got {raised}")
        for name, value in expect.get("values", {}).items():
            if result.answers.get(name) != value:
                fail(f"value of {name!r}: expected {value!r}, got {result.answers.get(name)!r}")
    return problems
