"""The design corpus: every file in designs/ is valid, lints clean, passes its own test cases
and renders every page."""

from __future__ import annotations

from pathlib import Path

import pytest

from formular.definitions.service import check, compile_definition, read_file

DESIGNS = sorted((Path(__file__).resolve().parents[1] / "designs").glob("*.json"))


@pytest.mark.parametrize("path", DESIGNS, ids=[p.stem for p in DESIGNS])
def test_design_checks_clean(path: Path) -> None:
    document, problems = read_file(path)
    assert problems == []
    assert check(document) == []
    assert document["id"] == path.stem, "the file stem is the design id"


@pytest.mark.parametrize("path", DESIGNS, ids=[p.stem for p in DESIGNS])
def test_design_has_test_cases(path: Path) -> None:
    document, _ = read_file(path)
    assert len(document.get("tests", [])) >= 3


@pytest.mark.parametrize("path", DESIGNS, ids=[p.stem for p in DESIGNS])
def test_every_page_renders(path: Path, driver, client) -> None:  # type: ignore[no-untyped-def]
    document, _ = read_file(path)
    compiled = compile_definition(document)
    form = driver(document["id"], audience="staff")
    for page in compiled.pages:
        response = form.get(page.index)
        # A page hidden by rules redirects to the next visible one; all others render.
        assert response.status_code in (200, 302)
        if response.status_code == 200:
            html = response.get_data(as_text=True)
            assert page.title in html or "Check your answers" in html


def test_designs_check_command_reports_file_pointer_lines(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from formular.cli import main

    bad = tmp_path / "bad.json"
    bad.write_text('{"formular": 1, "id": "Bad Id"}', encoding="utf-8")
    result = CliRunner().invoke(main, ["designs", "check", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:/id:" in result.output
    assert f"{bad}:/:" in result.output  # missing required keys are reported at the root
    good = CliRunner().invoke(main, ["designs", "check", str(DESIGNS[0])])
    assert good.exit_code == 0, good.output
