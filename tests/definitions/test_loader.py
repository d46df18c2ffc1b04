"""Reading definition documents: hostile bytes become problems, never exceptions."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from formular.definitions.loader import MAX_DEFINITION_BYTES, MAX_DEPTH
from formular.definitions.service import Problem, design_files, parse_json, read_file

ROOT = Path(__file__).resolve().parents[2]


def keywords(problems: list[Problem]) -> list[str]:
    return [p.keyword for p in problems]


def test_valid_json_parses_without_problems() -> None:
    document, problems = parse_json(b'{"a": [1, 2.5, "x", true, null], "b": {"c": {}}}')
    assert problems == []
    assert document == {"a": [1, 2.5, "x", True, None], "b": {"c": {}}}


def test_text_input_is_accepted() -> None:
    document, problems = parse_json('{"titel": "Blåbär"}')
    assert problems == []
    assert document == {"titel": "Blåbär"}


@pytest.mark.parametrize("data", [
    b"", b"nope", b"{", b'{"a": 1,}', b"{'a': 1}", b'{"a": 1} trailing', b"[1, 2",
    "\ufeff{}".encode(), b'{"a": undefined}',
], ids=["empty", "word", "open", "trailing-comma", "single-quotes", "trailing-text",
        "open-array", "bom", "undefined"])
def test_not_json_is_a_problem(data: bytes) -> None:
    document, problems = parse_json(data)
    assert document is None
    assert keywords(problems) == ["json"]
    assert problems[0].pointer == ""


def test_not_json_problem_says_where() -> None:
    _document, problems = parse_json(b'{\n  "a": 1,\n  "b": ?\n}')
    assert problems[0].params == {"line": 3, "column": 8}
    assert "line 3" in problems[0].message


@pytest.mark.parametrize("data", [
    b'{"a": 1, "a": 2}',
    b'{"layout": {"pages": [{"id": "x", "id": "y"}]}}',
    b'[{"k": 1}, {"k": 2, "k": 3}]',
])
def test_duplicate_keys_are_a_problem(data: bytes) -> None:
    document, problems = parse_json(data)
    assert document is None
    assert keywords(problems) == ["duplicate-key"]


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_non_json_numbers_are_a_problem(literal: str) -> None:
    document, problems = parse_json(f'{{"min": {literal}}}')
    assert document is None
    assert keywords(problems) == ["json"]
    assert literal.lstrip("-") in problems[0].message


def test_huge_numbers_stay_numbers() -> None:
    document, problems = parse_json(b'{"a": 1e400, "b": 123456789012345678901234567890}')
    assert problems == []
    assert document["b"] == 123456789012345678901234567890


def test_too_large_is_refused_before_parsing() -> None:
    data = b"[" + b"1," * (MAX_DEFINITION_BYTES // 2) + b"1]"
    started = time.perf_counter()
    document, problems = parse_json(data)
    assert time.perf_counter() - started < 0.5
    assert document is None
    assert keywords(problems) == ["too-large"]
    assert problems[0].params["size"] == len(data)
    assert problems[0].params["limit"] == MAX_DEFINITION_BYTES


def test_size_limit_can_be_lowered() -> None:
    _document, problems = parse_json(b'{"a": "0123456789"}', max_bytes=10)
    assert keywords(problems) == ["too-large"]


def test_too_deep_is_a_problem() -> None:
    deep = "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)
    document, problems = parse_json(deep)
    assert document is None
    assert keywords(problems) == ["too-deep"]
    ok = "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)
    assert parse_json(ok)[1] == []


@pytest.mark.parametrize("depth", [10_000, 200_000])
def test_hostile_depth_is_a_problem_not_a_crash(depth: int) -> None:
    data = '{"a":' * depth + "1" + "}" * depth
    document, problems = parse_json(data)
    assert document is None
    assert keywords(problems) in (["json"], ["too-deep"], ["too-large"])


def test_wide_documents_are_fine() -> None:
    data = json.dumps({f"k{i}": [i] for i in range(20_000)})
    document, problems = parse_json(data)
    assert problems == []
    assert len(document) == 20_000


def test_not_utf8_is_a_problem() -> None:
    document, problems = parse_json(b'{"a": "\xff\xfe"}')
    assert document is None
    assert keywords(problems) == ["encoding"]


def test_read_file_reports_a_missing_file(tmp_path: Path) -> None:
    document, problems = read_file(tmp_path / "nope.json")
    assert document is None
    assert keywords(problems) == ["io"]


def test_read_file_refuses_a_large_file_without_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    with path.open("wb") as handle:
        handle.truncate(MAX_DEFINITION_BYTES + 1)  # sparse: nothing is written
    document, problems = read_file(path)
    assert document is None
    assert keywords(problems) == ["too-large"]


def test_read_file_reports_problems_of_the_content(tmp_path: Path) -> None:
    path = tmp_path / "dup.json"
    path.write_text('{"id": "a", "id": "b"}', encoding="utf-8")
    assert keywords(read_file(path)[1]) == ["duplicate-key"]
    folder = tmp_path / "folder.json"
    folder.mkdir()
    assert keywords(read_file(folder)[1]) == ["io"]


def test_read_file_reads_every_design() -> None:
    for path in design_files(ROOT / "designs"):
        document, problems = read_file(path)
        assert problems == [], path
        assert document["id"] == path.stem


def test_design_files_are_sorted_json_files_only(tmp_path: Path) -> None:
    for name in ("b.json", "a.json", "notes.txt", "c.json.bak"):
        (tmp_path / name).write_text("{}", encoding="utf-8")
    (tmp_path / "d.json").mkdir()
    assert [p.name for p in design_files(tmp_path)] == ["a.json", "b.json"]
