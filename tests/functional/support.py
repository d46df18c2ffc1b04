"""Helpers shared by the rendering and functional tests: a tiny DOM over the rendered HTML, the
accessibility checks every page must pass, database look-ups by draft token, extra designs
stored for a test, and messages in the language the form pages use."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from flask import Flask, g
from sqlalchemy import func, select

from tests.conftest import load_design

#: Phrases of jsonschema's own English messages; none may reach a citizen.
RAW_JSONSCHEMA = (
    "is a required property", "is not valid under", "is not of type", "does not match",
    "is too long", "is too short", "is less than", "is greater than", "is not one of",
    "was expected", "Failed validating", "should be non-empty",
    "Additional properties are not allowed", "has non-unique elements", "ValidationError",
    "Traceback",
)

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    parent: Node | None = None
    children: list[Node] = field(default_factory=list)
    text_parts: list[str] = field(default_factory=list)

    @property
    def id(self) -> str | None:
        return self.attrs.get("id")

    def text(self) -> str:
        """All text inside, whitespace collapsed."""
        parts = list(self.text_parts)
        for child in self.children:
            parts.append(child.text())
        return " ".join(" ".join(parts).split())

    def iter(self) -> Iterator[Node]:
        yield self
        for child in self.children:
            yield from child.iter()

    def find_all(self, tag: str | None = None, **attrs: str) -> list[Node]:
        found = []
        for node in self.iter():
            if tag is not None and node.tag != tag:
                continue
            if all(_attr_matches(node, key, value) for key, value in attrs.items()):
                found.append(node)
        return found

    def find(self, tag: str | None = None, **attrs: str) -> Node | None:
        found = self.find_all(tag, **attrs)
        return found[0] if found else None

    def ancestors(self) -> Iterator[Node]:
        node = self.parent
        while node is not None:
            yield node
            node = node.parent

    def has_class(self, name: str) -> bool:
        return name in self.attrs.get("class", "").split()

    def is_hidden(self) -> bool:
        return "hidden" in self.attrs or any("hidden" in a.attrs for a in self.ancestors())


def _attr_matches(node: Node, key: str, value: str) -> bool:
    key = key.rstrip("_").replace("_", "-")
    if key == "class":
        return node.has_class(value)
    return node.attrs.get(key) == value


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.current = self.root

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: (v if v is not None else "") for k, v in attrs}, self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: (v if v is not None else "") for k, v in attrs}, self.current)
        self.current.children.append(node)

    def handle_endtag(self, tag: str) -> None:
        node: Node | None = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data: str) -> None:
        self.current.text_parts.append(data)


def parse(html: str) -> Node:
    builder = _Builder()
    builder.feed(html)
    builder.close()
    return builder.root


def by_id(dom: Node, element_id: str) -> Node:
    found = [n for n in dom.iter() if n.id == element_id]
    assert len(found) == 1, f"expected one element with id {element_id!r}, found {len(found)}"
    return found[0]


def summary_links(dom: Node) -> list[tuple[str, str]]:
    """(href, text) of the error summary's links, in order."""
    summary = dom.find(id="error-summary")
    if summary is None:
        return []
    links = []
    for a in summary.find_all("a"):
        message = next((n for n in a.iter() if n.has_class("summary-message")), None)
        links.append((a.attrs.get("href", ""), message.text() if message else a.text()))
    return links


def field_messages(dom: Node, field_id: str) -> list[str]:
    node = dom.find(id=f"{field_id}-error")
    return [] if node is None else [node.text()]


FORM_CONTROLS = ("input", "select", "textarea")


def assert_accessible(html: str) -> Node:
    """The structural accessibility rules of every form page; returns the parsed page.

    * ids are unique;
    * every visible control has a ``<label for>`` naming its id;
    * radios and checkboxes sit in a fieldset whose first element is a legend;
    * every ``aria-describedby``/``aria-labelledby`` id exists;
    * every help text and error message is referenced by some ``aria-describedby``;
    * the error summary is at the top of ``main`` and each of its links points at an id on the
      page.
    """
    dom = parse(html)
    ids = [n.id for n in dom.iter() if n.id]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    assert not duplicates, f"duplicate ids: {duplicates}"
    id_set = set(ids)
    label_for = {n.attrs.get("for") for n in dom.find_all("label")}
    described: set[str] = set()
    for node in dom.iter():
        for attr in ("aria-describedby", "aria-labelledby"):
            for ref in node.attrs.get(attr, "").split():
                assert ref in id_set, f"{node.tag}#{node.id} {attr} points at missing {ref!r}"
                if attr == "aria-describedby":
                    described.add(ref)
    form = dom.find("form", id="form-page") or dom
    for control in form.iter():
        if control.tag not in FORM_CONTROLS:
            continue
        kind = control.attrs.get("type", "")
        if kind in ("hidden", "submit", "button"):
            continue
        assert control.id, f"a {control.tag} named {control.attrs.get('name')!r} has no id"
        assert control.id in label_for, f"no <label for={control.id!r}>"
        if kind in ("radio", "checkbox") and control.attrs.get("name", "").endswith("__keep"):
            continue
        if kind in ("radio", "checkbox"):
            fieldset = next((a for a in control.ancestors() if a.tag == "fieldset"), None)
            assert fieldset is not None, f"{control.id} is not inside a fieldset"
            first = fieldset.children[0] if fieldset.children else None
            assert first is not None, f"fieldset of {control.id} is empty"
            assert first.tag == "legend", f"fieldset of {control.id} does not start with a legend"
    for node in dom.iter():
        if node.id and (node.id.endswith("-help") or node.id.endswith("-error")) and (
                node.has_class("hint") or node.has_class("field-error")):
            assert node.id in described, f"{node.id} is not referenced by aria-describedby"
    links = summary_links(dom)
    for href, _text in links:
        assert href.startswith("#"), href
        assert href[1:] in id_set, f"error summary links to missing id {href}"
    if links:
        main = dom.find("main")
        assert main is not None
        summary = dom.find(id="error-summary")
        assert summary is not None
        h1 = main.find("h1")
        order = [n for n in main.iter() if n is summary or n is h1]
        assert order[0] is summary, "the error summary comes before the page heading"
    return dom


def assert_no_raw_messages(html: str) -> None:
    for phrase in RAW_JSONSCHEMA:
        assert phrase not in html, f"raw validator text {phrase!r} reached the page"


def assert_no_inline_script(html: str) -> None:
    for script in parse(html).find_all("script"):
        if "src" in script.attrs:
            continue
        assert script.attrs.get("type") == "application/json", (
            f"inline script without src: {script.attrs}")


# --- messages in the form pages' language ----------------------------------------------------


def translate(app: Flask, message: str, **values: Any) -> str:
    """``message`` translated the way a form page in Swedish translates it."""
    from flask_babel import gettext

    with app.test_request_context("/"):
        g.offered_languages = ["sv"]
        return str(gettext(message, **values))


# --- database -------------------------------------------------------------------------------


def token_of(form: Any) -> str:
    return str(form.base.rsplit("/", 1)[-1])


def draft_row(app: Flask, form: Any) -> Any:
    from formular.storage.db import db
    from formular.storage.models import Draft

    with app.app_context():
        draft = db.session.scalars(select(Draft).where(Draft.token == token_of(form))).one()
        db.session.expunge(draft)
        return draft


def draft_answers(app: Flask, form: Any) -> dict[str, Any]:
    answers: dict[str, Any] = dict(draft_row(app, form).answers)
    return answers


def count_rows(app: Flask, model: Any, form: Any) -> int:
    from formular.storage.db import db

    draft_id = draft_row(app, form).id
    with app.app_context():
        return int(db.session.scalar(
            select(func.count()).select_from(model).where(model.draft_id == draft_id)) or 0)


def store_design(app: Flask, document: dict[str, Any]) -> str:
    """Store an extra design (idempotent: same id, version and content is reused)."""
    from formular.definitions.service import check
    from formular.designs import store
    from formular.storage.db import db

    assert check(document) == [], check(document)
    with app.app_context():
        with db.transaction() as session:
            store(session, document)
    return str(document["id"])


def minimal_definition(definition_id: str, items: list[dict[str, Any]],
                       properties: dict[str, Any], required: list[str] | None = None,
                       **extra: Any) -> dict[str, Any]:
    """A one-page definition around the given items and answer properties."""
    schema: dict[str, Any] = {"type": "object", "additionalProperties": False,
                              "properties": properties}
    if required:
        schema["required"] = required
    document: dict[str, Any] = {
        "formular": 1, "id": definition_id, "version": 1, "kind": "showcase",
        "title": f"Test {definition_id}", "language": "sv", "schema": schema,
        "layout": {"pages": [{"id": "page", "title": "Sida", "sections": [
            {"id": "section", "items": items}]}]},
    }
    document.update(extra)
    return document


def showcase() -> dict[str, Any]:
    return copy.deepcopy(load_design("showcase"))


# --- filling the showcase -------------------------------------------------------------------

VALID_PAGES: dict[int, dict[str, Any]] = {
    0: {"name": "Tolvan Tolvansson", "birth_date": "1970-05-05"},
    1: {"smoking": "never", "weight": "80", "height": "180"},
    2: {"symptoms": ["sleep", "worry"], "wellbeing": "5", "stress_1": "5", "stress_2": "1",
        "stress_3": "4"},
    3: {"has_medication": "false"},
    4: {"consent": "true"},
}


def fill_showcase(form: Any, pages: dict[int, dict[str, Any]] | None = None) -> None:
    """Fill every page of the showcase with valid answers (overridable per page)."""
    data = {**VALID_PAGES, **(pages or {})}
    for page in range(5):
        response = form.post(page, data[page])
        if response.status_code == 200 and not _summary_text(response):
            # Follow-up questions appeared on the page: it is shown once more first.
            response = form.post(page, data[page])
        assert response.status_code == 302, (page, _summary_text(response))


def _summary_text(response: Any) -> list[tuple[str, str]]:
    return summary_links(parse(response.get_data(as_text=True)))


def location(response: Any) -> str:
    return str(response.headers.get("Location", ""))


def page_of(response: Any) -> str:
    """The last part of a redirect's location: a page number, review or receipt."""
    return re.sub(r"\?.*$", "", location(response)).rsplit("/", 1)[-1]
