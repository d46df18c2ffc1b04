"""The ``formular`` command: run the demo, serve, migrate, check and load designs."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click


def _app(**overrides: Any) -> Any:
    from formular import create_app

    return create_app(overrides or None)


@click.group()
def main() -> None:
    """Formulär: health-care forms and questionnaires."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Prepare the database and demo data only.")
def demo(host: str, port: int, no_serve: bool) -> None:
    """Create the database, load designs/ and serve the demo (SQLite in the instance folder)."""
    os.environ.setdefault("FORMULAR_DEMO", "1")
    from formular.i18n.catalogs import compile_all

    compile_all()
    app = _app()
    _upgrade(app)
    _load(app, _design_paths(app, ()))
    _seed_demo(app)
    click.echo(f"Database: {app.config['DATABASE_URL']}")
    if no_serve:
        return
    from formular.jobs.celery_app import broker_url
    from formular.jobs.worker import start_worker_process, stop_worker_process

    worker_process = start_worker_process(beat=True)
    click.echo(f"Background worker: pid {worker_process.pid}, jobs through {broker_url(app)}")
    click.echo(f"Formulär is running: open http://{host}:{port}/ (stop with Ctrl+C)")
    click.echo(f"Staff: http://{host}:{port}/login  Citizens: http://{host}:{port}/login/citizen")
    try:
        app.run(host=host, port=port, debug=False, use_reloader=False, threaded=True)
    finally:
        stop_worker_process(worker_process)


@main.command()
@click.option("--concurrency", "-c", default=1, show_default=True, type=int,
              help="Tasks at once: 1 runs them in this process, more fork child processes.")
@click.option("--beat", is_flag=True,
              help="Also run the minute tick (release, reminders, deadline, expiry, e-mail). "
                   "Exactly one worker should.")
@click.option("--loglevel", default="INFO", show_default=True)
def worker(concurrency: int, beat: bool, loglevel: str) -> None:
    """Run a background worker: bulk send-outs, timers, the e-mail outbox."""
    from formular.jobs.worker import run_worker

    run_worker(_app(), concurrency=concurrency, beat=beat, loglevel=loglevel)


@main.group()
def jobs() -> None:
    """Background jobs."""


@jobs.command("progress")
@click.argument("job_id", type=int)
@click.option("--timeout", type=float, default=None, help="Give up after this many seconds.")
def jobs_progress(job_id: int, timeout: float | None) -> None:
    """Draw a job's progress bar until it is finished; exit 0 when it is done."""
    from formular.jobs.worker import progress

    updates = progress(_app(), job_id, timeout=timeout)
    first = next(updates, None)
    if first is None:
        click.echo(f"job {job_id}: no such job", err=True)
        sys.exit(1)
    last = first
    with click.progressbar(length=max(first.total, 1), label=f"job {job_id} ({first.kind})",
                           show_pos=True) as bar:
        bar.update(first.done)
        for step in updates:
            bar.update(step.done - last.done)
            last = step
    click.echo(f"job {job_id}: {last.status}, {last.done}/{last.total}"
               + (f" ({last.error})" if last.error else ""))
    sys.exit(0 if last.status == "done" else 1)


@jobs.command("resume")
@click.argument("job_id", type=int)
def jobs_resume(job_id: int) -> None:
    """Queue a send-out job again (after a broker outage or a lost worker); safe to repeat."""
    from formular.jobs.queue import enqueue
    from formular.jobs.tasks import FILL_SEND_OUT
    from formular.jobs.worker import read_progress

    app = _app()
    current = read_progress(app, job_id)
    if current is None or current.kind != "send-out":
        click.echo(f"job {job_id}: no such send-out job", err=True)
        sys.exit(1)
    with app.app_context():
        enqueue(FILL_SEND_OUT, job_id)
    click.echo(f"job {job_id} queued again (it was {current.status}, "
               f"{current.done}/{current.total})")


def _seed_demo(app: Any) -> None:
    """Demo units, staff, fictional citizens and send-outs; prints how to log in."""
    from formular import demo as demo_content
    from formular.storage.db import db as database

    with app.app_context(), database.transaction() as session:
        summary = demo_content.seed(session)
    click.echo("Demo content " + ("created." if summary.created else "already present."))
    click.echo(f"Staff log-in at /login, password for all: {demo_content.DEMO_PASSWORD}")
    for username, display in summary.staff:
        click.echo(f"  {username:10} {display}")
    click.echo("Citizens (demo log-in at /login/citizen, all fictional test numbers):")
    for name, number in summary.citizens:
        click.echo(f"  {number[:8]}-{number[8:]}  {name}")


@main.group()
def db() -> None:
    """Database migrations."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply all migrations."""
    _upgrade(_app())


@db.command("check")
def db_check() -> None:
    """Fail when the models and the migrations differ."""
    from formular.storage import migrate

    migrate.check(_app().config["DATABASE_URL"])
    click.echo("models and migrations agree")


def _upgrade(app: Any) -> None:
    from formular.storage import migrate

    migrate.upgrade(app.config["DATABASE_URL"])


@main.group()
def designs() -> None:
    """Form definitions in designs/."""


@designs.command("check")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
def designs_check(paths: tuple[Path, ...]) -> None:
    """Validate, lint and run the test cases of design files (default: all of designs/, the
    health profiles in designs/profiles/, checked against the definitions they read, and the
    clinic-made case types in designs/clinic-examples/).

    Prints one ``file:pointer: message`` line per problem; exits 1 if there is any.
    """
    from formular.casetypes.examples import clinic_example_files
    from formular.designs import check_paths, profile_files

    files = _expand(paths) if paths else (_default_designs() + profile_files(_designs_folder())
                                          + clinic_example_files(_designs_folder()))
    reports = check_paths(files)
    failed = False
    for report in reports:
        for line in report.lines():
            click.echo(line)
            failed = True
    click.echo(f"{len(files)} file(s) checked, "
               f"{sum(len(r.problems) for r in reports)} problem(s)", err=True)
    sys.exit(1 if failed else 0)


@designs.command("load")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
def designs_load(paths: tuple[Path, ...]) -> None:
    """Store design files as definition versions (refuses changed content under an old
    version number)."""
    app = _app()
    if not _load(app, _design_paths(app, paths)):
        sys.exit(1)


@main.group()
def i18n() -> None:
    """Translation catalogs."""


@i18n.command("extract")
def i18n_extract() -> None:
    """Re-extract both templates: messages.pot (interface) and designs.pot (form content).

    The same as the two ``pybabel extract`` commands in translations/README.md.
    """
    from formular.i18n import extract, extract_check

    extract_check.extract(extract_check.TEMPLATE)
    click.echo(f"wrote {extract_check.TEMPLATE}")
    extract.write_template(extract.TEMPLATE)
    click.echo(f"wrote {extract.TEMPLATE}")


@i18n.command("update")
def i18n_update() -> None:
    """Merge the templates into every catalog (``pybabel update`` for both domains), and fill
    the designs entries of each definition's own language (msgstr = msgid).

    New entries are left empty for a translator; run ``formular i18n check`` to list them.
    """
    from babel.messages.frontend import CommandLineInterface

    from formular.i18n import extract, extract_check
    from formular.i18n.catalogs import TRANSLATIONS

    status = CommandLineInterface().run(  # type: ignore[no-untyped-call]
        ["pybabel", "-q", "update", "-i", str(extract_check.TEMPLATE), "-d", str(TRANSLATIONS),
         "--no-fuzzy-matching", "--ignore-pot-creation-date"])
    if status:
        sys.exit(status)
    extract.update_catalogs()
    click.echo("updated the messages and designs catalogs")


@i18n.command("compile")
def i18n_compile() -> None:
    """Compile every translations/*/LC_MESSAGES/*.po (messages and designs) into a .mo file."""
    from formular.i18n.catalogs import compile_all

    for path in compile_all():
        click.echo(f"compiled {path}")


@i18n.command("check")
def i18n_check() -> None:
    """Fail when a shipped catalog has untranslated or fuzzy entries."""
    from formular.i18n.catalogs import po_files, untranslated

    failed = False
    for po in po_files():
        missing = untranslated(po)
        for message_id in missing:
            click.echo(f"{po}: untranslated: {message_id!r}")
        failed = failed or bool(missing)
    sys.exit(1 if failed else 0)


def _designs_folder() -> Path:
    from formular.config import DEFAULTS

    return Path(os.environ.get("FORMULAR_DESIGNS_DIR", DEFAULTS["DESIGNS_DIR"]))


def _default_designs() -> list[Path]:
    return _expand((_designs_folder(),))


def _design_paths(app: Any, paths: tuple[Path, ...]) -> list[Path]:
    return _expand(paths) if paths else _expand((Path(app.config["DESIGNS_DIR"]),))


def _expand(paths: tuple[Path, ...]) -> list[Path]:
    from formular.definitions.service import design_files

    files: list[Path] = []
    for path in paths:
        files += design_files(path) if path.is_dir() else [path]
    return files


def _load(app: Any, files: list[Path]) -> bool:
    from formular.definitions.service import read_file
    from formular.designs import VersionConflict, check_files, store
    from formular.storage.db import db as database

    ok = True
    with app.app_context():
        for report in check_files(files):
            if report.problems:
                ok = False
                for line in report.lines():
                    click.echo(line, err=True)
                continue
            document, _problems = read_file(report.path)
            try:
                with database.transaction() as session:
                    row, new = store(session, document)
            except VersionConflict as conflict:
                click.echo(f"{report.path}: {conflict}", err=True)
                ok = False
                continue
            click.echo(f"{'stored' if new else 'unchanged'}: {row.definition_id} "
                       f"version {row.version}")
    return ok


def _register_subcommands() -> None:
    """Command groups that live beside their feature (kept out of this module's imports)."""
    from formular.auth.cli import staff, units
    from formular.population.cli import population

    main.add_command(population)
    main.add_command(units)
    main.add_command(staff)


_register_subcommands()
