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
    click.echo(f"Database: {app.config['DATABASE_URL']}")
    if no_serve:
        return
    click.echo(f"Formulär is running: open http://{host}:{port}/ (stop with Ctrl+C)")
    click.echo(f"Forms to try: http://{host}:{port}/preview/")
    app.run(host=host, port=port, debug=False, use_reloader=False, threaded=True)


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
    """Validate, lint and run the test cases of design files (default: all of designs/).

    Prints one ``file:pointer: message`` line per problem; exits 1 if there is any.
    """
    from formular.designs import check_files

    files = _expand(paths) if paths else _default_designs()
    reports = check_files(files)
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


@i18n.command("compile")
def i18n_compile() -> None:
    """Compile every translations/*/LC_MESSAGES/*.po into a .mo file."""
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


def _default_designs() -> list[Path]:
    from formular.config import DEFAULTS

    folder = Path(os.environ.get("FORMULAR_DESIGNS_DIR", DEFAULTS["DESIGNS_DIR"]))
    return _expand((folder,))


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
