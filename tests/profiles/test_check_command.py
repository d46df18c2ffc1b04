"""``formular designs check`` checks health profiles too: schema, lint, sources, golden cases."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from formular.cli import main
from formular.designs import check_files, check_paths

from .support import DESIGNS, EXAMPLE_PATH, example_document


def check(*paths: Path) -> Any:
    return CliRunner().invoke(main, ["designs", "check", *map(str, paths)])


@pytest.fixture
def designs(tmp_path: Path) -> Path:
    """A designs folder with the survey, the measurement form and the example profile."""
    folder = tmp_path / "designs"
    (folder / "profiles").mkdir(parents=True)
    for name in ("health-survey-50", "health-measurements"):
        shutil.copy(DESIGNS / f"{name}.json", folder)
    shutil.copy(EXAMPLE_PATH, folder / "profiles")
    return folder


def write(path: Path, document: dict[str, Any]) -> Path:
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return path


def test_the_shipped_profile_checks_clean() -> None:
    result = check(EXAMPLE_PATH)
    assert result.exit_code == 0, result.output


def test_the_default_run_includes_the_profiles(designs: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORMULAR_DESIGNS_DIR", str(designs))
    result = check()
    assert result.exit_code == 0, result.output
    assert "3 file(s) checked, 0 problem(s)" in result.output
    write(designs / "profiles" / "health-profile-example.json",
          {**example_document(), "levels": []})
    result = check()
    assert result.exit_code == 1
    assert f"{designs / 'profiles' / 'health-profile-example.json'}:/levels:" in result.output


def test_sources_file_name_clash_and_golden_cases_are_reported(designs: Path) -> None:
    document = example_document()
    document["areas"][0]["inputs"]["smoking"] = "survey:rokning"
    document["measurements"] = "health-lab"
    document["tests"][0]["expect"]["sleep"] = 1
    path = write(designs / "profiles" / "renamed.json", document)
    result = check(path)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert f"{path}:/id: the file name must be the profile id (health-profile-example.json)" \
        in lines
    assert f"{path}:/areas/0/inputs/smoking: the survey 'health-survey-50' has no answer " \
        "'rokning'" in lines
    assert f"{path}:/measurements: no definition 'health-lab' was found" in lines
    assert any(line.startswith(f"{path}:/tests/0: ") and "sleep: expected level 1, got 5" in line
               for line in lines)


def test_a_profile_id_may_not_be_a_form_id(designs: Path) -> None:
    document = {**example_document(), "id": "health-survey-50"}
    path = write(designs / "profiles" / "health-survey-50.json", document)
    problems = check_paths([path])[0].problems
    assert [p.keyword for p in problems] == ["duplicate-id"]


def test_a_profile_is_never_loaded_as_a_form() -> None:
    """``formular designs load`` stores what check_files passes: a profile must not pass."""
    report = check_files([EXAMPLE_PATH])[0]
    assert [p.keyword for p in report.problems] == ["not-a-form"]


def test_unreadable_profile_json_is_reported(designs: Path) -> None:
    path = designs / "profiles" / "broken.json"
    path.write_text('{"profile": 1,', encoding="utf-8")
    result = check(path)
    assert result.exit_code == 1
    assert f"{path}:/: not valid JSON" in result.output
