"""Running a profile's own golden test cases (``tests`` in the profile file).

The same engine the pages use computes each case, so a passing case is a statement about what
staff and citizens will see.
"""

from __future__ import annotations

from formular.definitions.problems import Problem, pointer_join

from .compute import compute_profile
from .model import ProfileDefinition


def run_profile_tests(profile: ProfileDefinition) -> list[Problem]:
    """Every failed expectation, as problems at ``/tests/<n>``."""
    problems: list[Problem] = []
    for number, case in enumerate(profile.document.get("tests", [])):
        result = compute_profile(
            profile, survey_answers=case.get("survey_answers", {}),
            survey_scores=case.get("survey_scores", {}),
            measurements=case.get("measurements", {}), subject=case.get("subject", {}))
        where = pointer_join("tests", number)
        for area_id, expected in case["expect"].items():
            got = result.area(area_id)
            if got is None:
                problems.append(Problem(where, "test-case", f"{case['name']}: no area "
                                        f"{area_id!r}"))
            elif got.level != expected:
                problems.append(Problem(where, "test-case", f"{case['name']}: {area_id}: "
                                        f"expected level {expected}, got {got.level}"
                                        + (f" ({got.reason})" if got.reason else "")))
        for area_id, reason in case.get("reasons", {}).items():
            got = result.area(area_id)
            if got is not None and got.reason != reason:
                problems.append(Problem(where, "test-case", f"{case['name']}: {area_id}: "
                                        f"expected reason {reason!r}, got {got.reason!r}"))
    return problems
