"""Stream 100,000 stored submissions to CSV: Formulär's export against a bare ``csv.writer``.

As in ``/work/shared/brief/performance.md`` §1d: submission rows with 20 answers as JSON sit in
a database table; both contenders run the same streamed SQLAlchemy query
(``execution_options(yield_per=2000)``, JSON decoded by the column type) and write to
``/dev/null``:

* ``export`` (ours): rows mapped to ``ExportRow`` and fed to ``formular.interop.stream_csv`` (the
  default Swedish-Excel CSV: labels *and* codes, scores, bands, flags, formula neutralising);
* ``baseline``: ``csv.writer`` writing the six fixed fields and the 20 raw answer values.

Each measurement runs in a FRESH subprocess, so its peak RSS (``ru_maxrss``) is its own; runs of
the two alternate. The database is a temporary SQLite file, and also PostgreSQL when
``FORMULAR_TEST_DATABASE_URL`` is set (in a table ``bench_export_submission`` created and dropped
here). A human table goes to stderr, one JSON line to stdout. Nothing is asserted; the issue's
targets are ``export_rate_ratio`` ≥ 0.5 and ``export_peak_mb`` < 150.

Run: ``.venv/bin/python bench/export.py [--rows N] [--repeats R] [--quick]``.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import (  # noqa: E402
    JSON,
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from formular.definitions.service import CompiledDefinition, compile_definition  # noqa: E402
from formular.storage.db import make_engine  # noqa: E402

Json = dict[str, Any]
TABLE = "bench_export_submission"
YIELD_PER = 2000
VARIANTS = 500

metadata = MetaData()
JsonDocument = JSON().with_variant(JSONB(), "postgresql")
submissions = Table(
    TABLE, metadata,
    Column("id", Integer, primary_key=True),
    Column("personnummer", String(12)),
    Column("name", String(200)),
    Column("receipt", String(32)),
    Column("created_at", DateTime(timezone=True)),
    Column("answered_by", String(200)),
    Column("status", String(30)),
    Column("answers", JsonDocument),
    Column("scores", JsonDocument),
)

# ---------------------------------------------------------------------------------------------
# A 20-answer definition: an 8-row matrix (scored, with bands and a flag), 2 choices, 4
# integers, 2 decimals, 2 texts, a date and a yes/no.
# ---------------------------------------------------------------------------------------------

FREQUENCY = [
    {"value": 0, "label": "Inte alls"}, {"value": 1, "label": "Flera dagar"},
    {"value": 2, "label": "Mer än hälften av dagarna"}, {"value": 3, "label": "Nästan varje dag"},
]
MATRIX_ROWS = [f"q{n}" for n in range(1, 9)]
INTEGERS = ["visits", "sleep_hours", "steps_k", "coffee"]
DECIMALS = ["weight", "height"]
TEXTS = ["comment", "medication"]
CHOICES = {
    "smoking": [("never", "Aldrig"), ("former", "Har slutat"), ("daily", "Dagligen")],
    "exercise": [("none", "Ingen"), ("some", "Ibland"), ("often", "Ofta")],
}
ANSWER_NAMES = [*MATRIX_ROWS, *CHOICES, *INTEGERS, *DECIMALS, *TEXTS, "visit_date", "works"]


def definition() -> Json:
    properties: Json = {name: {"type": "integer", "enum": [0, 1, 2, 3]} for name in MATRIX_ROWS}
    properties |= {name: {"enum": [v for v, _ in options]} for name, options in CHOICES.items()}
    properties |= {name: {"type": "integer", "minimum": 0, "maximum": 1000} for name in INTEGERS}
    properties |= {name: {"type": "number", "minimum": 0, "maximum": 300} for name in DECIMALS}
    properties |= {name: {"type": "string", "maxLength": 500} for name in TEXTS}
    properties["visit_date"] = {"type": "string", "format": "date"}
    properties["works"] = {"type": "boolean"}
    items: list[Json] = [
        {"type": "matrix", "name": "mood", "label": "Hur ofta har du besvärats av följande?",
         "options": "frequency",
         "rows": [{"name": name, "label": f"Påstående {name[1:]}"} for name in MATRIX_ROWS]},
    ]
    items += [{"type": "choice", "name": name, "label": name.title(),
               "options": [{"value": v, "label": label} for v, label in options]}
              for name, options in CHOICES.items()]
    items += [{"type": "integer", "name": name, "label": name} for name in INTEGERS]
    items += [{"type": "decimal", "name": name, "label": name} for name in DECIMALS]
    items += [{"type": "textarea", "name": name, "label": name} for name in TEXTS]
    items += [{"type": "date", "name": "visit_date", "label": "Besöksdatum"},
              {"type": "yes-no", "name": "works", "label": "Arbetar du?"}]
    assert [i["name"] for i in items[1:]] + MATRIX_ROWS == [*ANSWER_NAMES[8:], *MATRIX_ROWS]
    return {
        "formular": 1, "id": "bench-export", "version": 1, "kind": "questionnaire",
        "title": "Exporttest", "language": "sv",
        "schema": {"type": "object", "additionalProperties": False, "properties": properties},
        "option_sets": {"frequency": [dict(o, weight=o["value"]) for o in FREQUENCY]},
        "layout": {"pages": [{"id": "p1", "title": "Frågor",
                              "sections": [{"id": "s1", "items": items}]}]},
        "scores": [{
            "id": "total", "label": "Totalpoäng", "method": "sum", "items": MATRIX_ROWS,
            "band_sets": [{"bands": [
                {"id": "low", "min": 0, "max": 9, "label": "Låg", "severity": "none"},
                {"id": "mid", "min": 10, "max": 16, "label": "Måttlig", "severity": "moderate"},
                {"id": "high", "min": 17, "max": 24, "label": "Hög", "severity": "high"}]}],
        }],
        "flags": [{"id": "q8", "label": "Fråga 8 över 0", "severity": "critical",
                   "when": {">": [{"var": "q8"}, 0]}}],
    }


def variants(compiled: CompiledDefinition) -> list[tuple[Json, Json]]:
    """A few hundred validated (answers, scores) documents, as the submit flow stores them."""
    from formular.web.filling import scores_as_json

    found = []
    for n in range(VARIANTS):
        answers: Json = {name: (n * 7 + i) % 4 for i, name in enumerate(MATRIX_ROWS)}
        answers |= {"smoking": ["never", "former", "daily"][n % 3],
                    "exercise": ["none", "some", "often"][n % 3],
                    "visits": n % 12, "sleep_hours": 4 + n % 6, "steps_k": n % 20,
                    "coffee": n % 5, "weight": 50 + (n % 60) + 0.5, "height": 150 + n % 45,
                    "comment": f"Kommentar nummer {n}, med å, ä och ö; och \"citat\".",
                    "medication": ["Alvedon 500 mg", "=1+1", "Inga", "-"][n % 4],
                    "visit_date": (dt.date(2025, 1, 1) + dt.timedelta(days=n)).isoformat(),
                    "works": n % 2 == 0}
        validation = compiled.validate(answers, audience="staff")
        assert validation.ok, validation.errors
        found.append((validation.answers, scores_as_json(validation)))
    return found


def fill(engine: Engine, rows: int) -> None:
    compiled = compile_definition(definition())
    documents = variants(compiled)
    metadata.drop_all(engine)
    metadata.create_all(engine)
    start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    batch: list[Json] = []
    with engine.begin() as connection:
        for n in range(rows):
            answers, scores = documents[n % len(documents)]
            batch.append({
                "personnummer": f"19{n % 100:02d}0101{n % 10000:04d}", "name": f"Test Person {n}",
                "receipt": f"{n:08X}-BE{n % 100:02d}", "created_at": start + dt.timedelta(
                    minutes=n), "answered_by": "citizen", "status": "received",
                "answers": answers, "scores": scores})
            if len(batch) == 5000:
                connection.execute(submissions.insert(), batch)
                batch = []
        if batch:
            connection.execute(submissions.insert(), batch)


# ---------------------------------------------------------------------------------------------
# One measurement, in a fresh process
# ---------------------------------------------------------------------------------------------


def _query() -> Any:
    c = submissions.c
    return (select(c.personnummer, c.name, c.receipt, c.created_at, c.answered_by, c.status,
                   c.answers, c.scores)
            .order_by(c.id).execution_options(yield_per=YIELD_PER))


def _ours(session: Session, out: Any, compiled: CompiledDefinition) -> int:
    from formular.interop.service import ExportRow, stream_csv

    count = 0

    def rows() -> Any:
        nonlocal count
        for record in session.execute(_query()):
            count += 1
            yield ExportRow(*record)

    for chunk in stream_csv(compiled, rows()):
        out.write(chunk)
    return count


def _baseline(session: Session, out: Any) -> int:
    writer = csv.writer(out)
    writer.writerow(["personnummer", "name", "receipt", "submitted_at", "answered_by", "status",
                     *ANSWER_NAMES])
    count = 0
    for pnr, name, receipt, created, by, status, answers, _scores in session.execute(_query()):
        writer.writerow([pnr, name, receipt, created, by, status,
                         *[answers.get(key) for key in ANSWER_NAMES]])
        count += 1
    return count


def worker(mode: str, url: str) -> None:
    if mode == "export":
        import formular.interop.service  # noqa: F401  (loaded at start-up in a web worker)
    compiled = compile_definition(definition())
    engine = make_engine(url)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with Session(engine) as session, open(os.devnull, "w", encoding="utf-8") as out:
        started, cpu_started = time.perf_counter(), time.process_time()
        count = _ours(session, out, compiled) if mode == "export" else _baseline(session, out)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    now = _current_rss_kb()
    engine.dispose()
    print(json.dumps({"mode": mode, "rows": count, "seconds": elapsed,
                      "rows_per_s": count / elapsed, "cpu_rows_per_s": count / cpu,
                      "rss_before_mb": before / 1024,
                      "peak_mb": peak / 1024, "rss_after_mb": now / 1024}))


def _current_rss_kb() -> int:
    """The resident set now (``ru_maxrss`` is a high-water mark, often set by the imports)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def measure(mode: str, url: str) -> Json:
    done = subprocess.run(
        [sys.executable, __file__, "--worker", mode, "--url", url],
        capture_output=True, text=True, check=True, cwd=ROOT)
    result: Json = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# ---------------------------------------------------------------------------------------------


def run(url: str, rows: int, repeats: int) -> Json:
    engine = make_engine(url)
    try:
        fill(engine, rows)
    finally:
        engine.dispose()
    results: dict[str, list[Json]] = {"export": [], "baseline": []}
    for repeat in range(repeats):
        order = ("export", "baseline") if repeat % 2 == 0 else ("baseline", "export")
        for mode in order:
            outcome = measure(mode, url)
            assert outcome["rows"] == rows, outcome
            results[mode].append(outcome)
    ours, base = results["export"], results["baseline"]
    rate = statistics.median(r["rows_per_s"] for r in ours)
    base_rate = statistics.median(r["rows_per_s"] for r in base)
    cpu_rate = statistics.median(r["cpu_rows_per_s"] for r in ours)
    cpu_base_rate = statistics.median(r["cpu_rows_per_s"] for r in base)
    return {
        "export_rows_per_s": round(rate),
        "baseline_rows_per_s": round(base_rate),
        "export_rate_ratio": round(rate / base_rate, 3),
        # The same per CPU second of the exporting process: steadier on a busy machine (the
        # database server's own time is not in it, which matters for PostgreSQL only).
        "export_cpu_rate_ratio": round(cpu_rate / cpu_base_rate, 3),
        "export_peak_mb": round(max(r["peak_mb"] for r in ours), 1),
        "baseline_peak_mb": round(max(r["peak_mb"] for r in base), 1),
        "export_rss_before_mb": round(statistics.median(r["rss_before_mb"] for r in ours), 1),
        "export_rss_after_mb": round(max(r["rss_after_mb"] for r in ours), 1),
        "baseline_rss_before_mb": round(
            statistics.median(r["rss_before_mb"] for r in base), 1),
        "baseline_rss_after_mb": round(max(r["rss_after_mb"] for r in base), 1),
    }


def drop(url: str) -> None:
    engine = make_engine(url)
    try:
        metadata.drop_all(engine)
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="5,000 rows, one repeat")
    parser.add_argument("--worker", choices=["export", "baseline"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.url)
        return
    rows, repeats = (5_000, 1) if args.quick else (args.rows, args.repeats)

    databases = []
    with tempfile.TemporaryDirectory() as folder:
        sqlite_url = f"sqlite:///{Path(folder) / 'bench.sqlite'}"
        databases.append(("SQLite", run(sqlite_url, rows, repeats)))
    pg_url = os.environ.get("FORMULAR_TEST_DATABASE_URL")
    if pg_url:
        try:
            databases.append(("PostgreSQL", run(pg_url, rows, repeats)))
        finally:
            drop(pg_url)

    print(f"\nCSV export of {rows:,} submissions (20 answers each), median of {repeats} "
          "fresh processes per mode", file=sys.stderr)
    print(f"{'database':<11} {'mode':<9} {'rows/s':>9} {'RSS before':>11} {'peak RSS':>9} "
          f"{'RSS after':>10}", file=sys.stderr)
    for name, result in databases:
        for mode in ("export", "baseline"):
            before, peak = result[f"{mode}_rss_before_mb"], result[f"{mode}_peak_mb"]
            after = result[f"{mode}_rss_after_mb"]
            print(f"{name:<11} {mode:<9} {result[f'{mode}_rows_per_s']:>9,} "
                  f"{before:>8.1f} MB {peak:>6.1f} MB {after:>7.1f} MB", file=sys.stderr)
        print(f"{name:<11} ratio {result['export_rate_ratio']:.3f} (target ≥ 0.5; per CPU "
              f"second {result['export_cpu_rate_ratio']:.3f}), "
              f"export peak {result['export_peak_mb']:.1f} MB (target < 150)", file=sys.stderr)

    line: Json = {**databases[0][1], "rows": rows, "repeats": repeats}
    for name, result in databases[1:]:
        line |= {f"{name.lower()}_{key}": value for key, value in result.items()}
    print(json.dumps(line))


if __name__ == "__main__":
    main()
