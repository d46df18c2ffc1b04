"""Reading the listed-population CSV file: encodings, separators, quotes, headers, limits."""

from __future__ import annotations

import pytest

from formular.population.csv_import import FileProblem, read_population_csv

HEADER = "personnummer;namn;listningsenhet;e-post\r\n"


def rows_of(data: bytes) -> list[tuple[int, str, str, str, str]]:
    return [(r.line, r.personnummer, r.name, r.unit, r.email)
            for r in read_population_csv(data).rows]


def problem(data: bytes, **limits: int) -> FileProblem:
    with pytest.raises(FileProblem) as caught:
        read_population_csv(data, **limits)
    return caught.value


def test_semicolons_with_and_without_bom_read_the_same() -> None:
    text = HEADER + "19760101-2384;Åsa Öberg;vc-norr;asa@example.org\r\n"
    plain, bom = text.encode(), "\ufeff".encode() + text.encode()
    expected = [(2, "19760101-2384", "Åsa Öberg", "vc-norr", "asa@example.org")]
    assert rows_of(plain) == expected
    assert rows_of(bom) == expected
    assert read_population_csv(bom).delimiter == ";"


def test_commas_and_english_headers_in_another_order() -> None:
    data = (b"Name,E-mail,Listing unit,Personnummer,Address\n"
            b"Kim Kvist,,VC Norr,197601012384,Storgatan 1\n")
    parsed = read_population_csv(data)
    assert parsed.delimiter == ","
    assert parsed.has_email
    assert rows_of(data) == [(2, "197601012384", "Kim Kvist", "VC Norr", "")]


def test_the_email_column_is_optional() -> None:
    parsed = read_population_csv(b"pnr;namn;enhet\n197601012384;Kim;vc\n")
    assert not parsed.has_email
    assert [(r.personnummer, r.email) for r in parsed.rows] == [("197601012384", "")]


def test_quotes_may_hold_separators_quotes_and_line_breaks() -> None:
    data = (HEADER + '"19760101-2384";"Berg; Anna ""Annie""";vc-norr;\r\n'
            '19760102-2383;"Lind,\r\nOla";vc-norr;\r\n'
            '19760103-2382;Ek;vc-norr;\r\n').encode()
    assert rows_of(data) == [
        (2, "19760101-2384", 'Berg; Anna "Annie"', "vc-norr", ""),
        (3, "19760102-2383", "Lind,\r\nOla", "vc-norr", ""),
        (5, "19760103-2382", "Ek", "vc-norr", ""),
    ]


def test_blank_lines_are_skipped_and_rows_keep_their_line_numbers() -> None:
    data = ("\r\n" + HEADER + "\r\n19760101-2384;A;vc;\r\n;;;\r\n\r\n19760102-2383;B;vc;\r\n"
            ).encode()
    assert [r[0] for r in rows_of(data)] == [4, 7]


def test_a_row_with_missing_or_extra_fields_is_read_and_counted() -> None:
    data = (HEADER + "19760101-2384;A\r\n19760102-2383;B;vc;;extra\r\n").encode()
    rows = read_population_csv(data).rows
    assert [(r.name, r.unit, r.fields, r.expected_fields) for r in rows] == [
        ("A", "", 2, 4), ("B", "vc", 5, 4)]


@pytest.mark.parametrize(("data", "code"), [
    (b"", "empty"),
    (b"  \r\n\r\n", "empty"),
    (HEADER.encode(), "no-rows"),
    ((HEADER + "19760101-2384;Åsa;vc;\r\n").encode("cp1252"), "encoding"),
    ((HEADER + "19760101-2384;Åsa;vc;\r\n").encode("utf-16"), "encoding"),
    (b"%PDF-1.4\x00\x01binary", "binary"),
    ((HEADER + '19760101-2384;"unclosed;vc;\r\n').encode(), "malformed"),
    ((HEADER + '19760101-2384;"A"x;vc;\r\n').encode(), "malformed"),
])
def test_unreadable_files_are_refused_with_a_reason(data: bytes, code: str) -> None:
    assert problem(data).code == code


def test_malformed_names_the_line() -> None:
    data = (HEADER + "19760101-2384;A;vc;\r\n19760102-2383;\"B\"x;vc;\r\n").encode()
    found = problem(data)
    assert (found.code, found.line) == ("malformed", 3)


@pytest.mark.parametrize(("header", "missing"), [
    ("namn;listningsenhet", ("personnummer",)),
    ("personnummer;enhet", ("name",)),
    ("personnummer;namn;adress", ("unit",)),
    ("a;b;c", ("personnummer", "name", "unit")),
])
def test_a_header_without_the_required_columns_is_refused(header: str,
                                                          missing: tuple[str, ...]) -> None:
    found = problem(f"{header}\n19760101-2384;A;vc\n".encode())
    assert (found.code, found.columns) == ("missing-columns", missing)


def test_a_file_without_header_is_refused_as_missing_columns() -> None:
    found = problem(b"19760101-2384;Anna;vc-norr\n19760102-2383;Ola;vc-norr\n")
    assert found.code == "missing-columns"


def test_a_column_named_twice_is_refused() -> None:
    found = problem(b"personnummer;namn;pnr;enhet\n19760101-2384;A;x;vc\n")
    assert (found.code, found.columns) == ("duplicate-columns", ("personnummer",))


def test_size_limit() -> None:
    data = (HEADER + "19760101-2384;A;vc;\r\n").encode()
    assert problem(data, max_bytes=len(data) - 1).code == "too-large"
    assert len(read_population_csv(data, max_bytes=len(data)).rows) == 1


def test_row_limit() -> None:
    data = (HEADER + "19760101-2384;A;vc;\r\n" * 3).encode()
    assert problem(data, max_rows=2).code == "too-many-rows"
    assert len(read_population_csv(data, max_rows=3).rows) == 3


def test_the_default_limits_are_five_megabytes_and_200000_rows() -> None:
    from formular.population import csv_import

    assert csv_import.MAX_BYTES == 5 * 1024 * 1024
    assert csv_import.MAX_ROWS == 200_000
    assert problem(b"x" * (csv_import.MAX_BYTES + 1)).code == "too-large"
