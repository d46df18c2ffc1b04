"""Each row's verdict (pure): personnummer, name, unit, e-mail, duplicates and what is known
about people already registered — errors are left out, warnings are imported with a note."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from formular.definitions.personnummer import luhn_check_digit
from formular.population.checks import CitizenFacts, RowVerdict, UnitRef, check_rows, summarize
from formular.population.csv_import import InputRow

from .support import number

TODAY = dt.date(2026, 11, 26)
NORR = UnitRef(1, "vc-norr", "Vårdcentralen Norr")
SODER = UnitRef(2, "vc-soder", "Vårdcentralen Söder")
OTHER = UnitRef(3, "vc-annan", "Vårdcentralen Annan")
TWIN_A = UnitRef(4, "twin-a", "Tvillingen")
TWIN_B = UnitRef(5, "twin-b", "Tvillingen")
REGION = UnitRef(6, "region", "Region Demo", "region")
UNITS = [NORR, SODER, OTHER, TWIN_A, TWIN_B, REGION]
ALLOWED = [1, 2, 4, 5, 6]

A = number(dt.date(1976, 1, 1), 2)
B = number(dt.date(1976, 5, 5), 3)
C = number(dt.date(1976, 12, 31), 4)


def row(line: int, pnr: str, name: str = "Kim Kvist", unit: str = "vc-norr", email: str = "",
        fields: int = 4) -> InputRow:
    return InputRow(line, pnr, name, unit, email, fields, 4)


def check(rows: list[InputRow], known: Mapping[str, CitizenFacts] | None = None
          ) -> list[RowVerdict]:
    asked: list[list[str]] = []

    def lookup(numbers: list[str]) -> Mapping[str, CitizenFacts]:
        asked.append(numbers)
        return {n: f for n, f in (known or {}).items() if n in numbers}

    verdicts = check_rows(rows, UNITS, ALLOWED, lookup, TODAY)
    assert len(asked) <= 1, "the registered people are looked up once, not per row"
    return verdicts


def codes(verdict: RowVerdict) -> list[str]:
    return [p.code for p in verdict.problems]


def facts(**values: object) -> CitizenFacts:
    base: dict[str, object] = {"id": 7, "name": "Kim Kvist", "email": None, "deceased": False,
                               "protected": False, "locked": False, "listed_unit_id": None}
    base.update(values)
    return CitizenFacts(**base)  # type: ignore[arg-type]


def test_a_good_row_of_a_new_person_is_created_and_listed() -> None:
    [verdict] = check([row(2, A, email="kim@example.org")])
    assert (verdict.status, verdict.action, verdict.problems) == ("ok", "create", [])
    assert (verdict.personnummer, verdict.unit_id, verdict.email) == (A, 1, "kim@example.org")


def test_personnummer_forms_and_samordningsnummer_are_accepted() -> None:
    coordination = number(dt.date(1976, 12, 31), 5, coordination=True)
    ten = f"{A[2:8]}-{A[8:]}"
    verdicts = check([row(2, f"{A[:8]}-{A[8:]}"), row(3, coordination), row(4, ten)])
    assert [(v.status, v.personnummer) for v in verdicts] == [
        ("ok", A), ("ok", coordination), ("warning", A)]
    assert codes(verdicts[2]) == ["duplicate-same"]


def test_bad_numbers_are_errors_with_their_reason() -> None:
    wrong_check = A[:-1] + str((int(A[-1]) + 1) % 10)
    no_date = "1976023023" + "2" + str(luhn_check_digit("760230232"))
    future = number(dt.date(2027, 1, 1), 2)
    verdicts = check([row(2, wrong_check), row(3, "hello"), row(4, no_date),
                      row(5, future), row(6, "")])
    assert [codes(v) for v in verdicts] == [["pnr-checksum"], ["pnr-format"], ["pnr-date"],
                                            ["pnr-date"], ["pnr-missing"]]
    assert all(v.status == "error" and v.action is None for v in verdicts)


def test_names_are_checked() -> None:
    verdicts = check([row(2, A, name="  "), row(3, B, name="x" * 201),
                      row(4, C, name="12345"), row(5, number(dt.date(1976, 2, 2), 2),
                                                   name="Kim\x07 Kvist"),
                      row(6, number(dt.date(1976, 2, 3), 2), name="  Li   Wei ")])
    assert [codes(v) for v in verdicts] == [["name-missing"], ["name-too-long"],
                                            ["name-invalid"], ["name-invalid"], []]
    assert verdicts[4].name == "Li Wei"


def test_units_by_code_or_name_and_only_the_importers() -> None:
    verdicts = check([
        row(2, A, unit="VC-NORR"), row(3, B, unit=" vårdcentralen  söder "),
        row(4, C, unit="vc-annan"), row(5, number(dt.date(1976, 2, 2), 2), unit="Nowhere"),
        row(6, number(dt.date(1976, 2, 3), 2), unit=""),
        row(7, number(dt.date(1976, 2, 4), 2), unit="Tvillingen"),
        row(8, number(dt.date(1976, 2, 5), 2), unit="twin-b"),
        row(9, number(dt.date(1976, 2, 6), 2), unit="region"),
    ])
    assert [(codes(v), v.unit_id) for v in verdicts] == [
        ([], 1), ([], 2), (["unit-not-allowed"], None), (["unit-unknown"], None),
        (["unit-missing"], None), (["unit-ambiguous"], None), ([], 5),
        (["unit-not-clinic"], None)]


def test_an_invalid_email_is_a_warning_and_not_stored() -> None:
    [verdict] = check([row(2, A, email="not an address")])
    assert (verdict.status, codes(verdict), verdict.email, verdict.action) == (
        "warning", ["email-invalid"], None, "create")


def test_a_row_with_another_number_of_fields_is_an_error() -> None:
    [verdict] = check([row(2, A, fields=5)])
    assert (verdict.status, codes(verdict)) == ("error", ["columns"])


def test_identical_repeats_are_imported_once() -> None:
    verdicts = check([row(2, A), row(3, B), row(4, A, name="kim  KVIST", unit="VC-norr")])
    assert [(v.status, v.action) for v in verdicts] == [
        ("ok", "create"), ("ok", "create"), ("warning", "skip")]
    assert verdicts[2].problems[0].other_line == 2


def test_conflicting_repeats_are_all_errors() -> None:
    verdicts = check([row(2, A), row(3, A, unit="vc-soder"), row(4, A, name="Other Name")])
    assert [(v.status, codes(v)) for v in verdicts] == [("error", ["duplicate-conflict"])] * 3
    assert [v.problems[0].other_line for v in verdicts] == [3, 2, 2]


def test_registered_people() -> None:
    d, p, lk, n, mv, here = (number(dt.date(1976, 3, day), 2) for day in range(1, 7))
    known = {
        d: facts(deceased=True),
        p: facts(protected=True, name="Hemlig"),
        lk: facts(locked=True),
        n: facts(name="Kim Annan"),
        mv: facts(listed_unit_id=2),
        here: facts(listed_unit_id=1),
    }
    verdicts = check([row(2, d), row(3, p), row(4, lk), row(5, n), row(6, mv), row(7, here)],
                     known)
    assert [(v.status, codes(v), v.action) for v in verdicts] == [
        ("error", ["deceased"], None),
        ("warning", ["protected"], "list"),
        ("warning", ["locked"], "list"),
        ("warning", ["name-differs"], "list"),
        ("warning", ["moves"], "list"),
        ("ok", [], "unchanged"),
    ]


def test_summary_counts_per_unit() -> None:
    here = number(dt.date(1976, 3, 6), 2)
    verdicts = check([row(2, A), row(3, B, unit="vc-soder"), row(4, A), row(5, "x"),
                      row(6, here)], {here: facts(listed_unit_id=1)})
    counts = summarize(verdicts)
    assert {k: counts[k] for k in ("rows", "ok", "warning", "error", "create", "list",
                                   "unchanged", "skip", "import")} == {
        "rows": 5, "ok": 3, "warning": 1, "error": 1, "create": 2, "list": 0,
        "unchanged": 1, "skip": 1, "import": 3}
    assert counts["units"] == {"1": {"listed": 2, "create": 1, "list": 0, "unchanged": 1},
                               "2": {"listed": 1, "create": 1, "list": 0, "unchanged": 0}}
