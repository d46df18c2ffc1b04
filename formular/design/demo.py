"""Demo content of the form designer: a draft at Vårdcentralen Norr and a template it shares,
which Vårdcentralen Söder subscribes to (so Söder's senders can choose it at once).

Called once by :func:`formular.demo.seed`; does nothing when the demo units are missing or the
content is already there. The texts are Swedish, as a clinic's designer would write them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from formular.storage.design import DesignDraft
from formular.storage.identity import StaffUser, Unit

from . import drafts, workspace

DRAFT_ID = "somn-och-maende"
TEMPLATE_ID = "ryggbesvar"

_FREQUENCY = [
    {"value": "aldrig", "label": "Aldrig", "weight": 0},
    {"value": "ibland", "label": "Ibland", "weight": 1},
    {"value": "ofta", "label": "Ofta", "weight": 2},
    {"value": "alltid", "label": "Alltid", "weight": 3},
]


def sleep_draft() -> dict[str, Any]:
    """A draft in progress: two weighted questions, a score with age-dependent bands."""
    values = [o["value"] for o in _FREQUENCY]
    return {
        "formular": 1, "id": DRAFT_ID, "version": 1, "kind": "questionnaire",
        "title": "Sömn och mående", "language": "sv", "languages": ["sv"],
        "contact": "Vårdcentralen Norr, 010-000 00 00",
        "schema": {"type": "object", "additionalProperties": False,
                   "required": ["nedstamd", "somn"],
                   "properties": {"nedstamd": {"enum": values}, "somn": {"enum": values},
                                  "ovrigt": {"type": "string", "maxLength": 1000}}},
        "option_sets": {"hur-ofta": _FREQUENCY},
        "layout": {"pages": [
            {"id": "fragor", "title": "De senaste två veckorna", "sections": [
                {"id": "mabra", "items": [
                    {"type": "info", "name": "inledning",
                     "text": "Svara utifrån hur du har haft det **de senaste två veckorna**."},
                    {"type": "choice", "name": "nedstamd", "options": "hur-ofta",
                     "label": "Hur ofta har du känt dig nedstämd?"},
                    {"type": "choice", "name": "somn", "options": "hur-ofta",
                     "label": "Hur ofta har du sovit dåligt?"}]}]},
            {"id": "slut", "title": "Något mer?", "sections": [
                {"id": "fritt", "items": [
                    {"type": "textarea", "name": "ovrigt",
                     "label": "Finns det något mer du vill berätta?"}]}]},
        ]},
        "scores": [{
            "id": "belastning", "label": "Belastning", "method": "sum",
            "items": ["nedstamd", "somn"],
            "band_sets": [
                {"when": {">=": [{"var": "subject.age"}, 65]}, "bands": [
                    {"id": "lag-65", "min": 0, "max": 2, "label": "Låg"},
                    {"id": "hog-65", "min": 3, "max": 6, "label": "Hög",
                     "severity": "moderate"}]},
                {"bands": [
                    {"id": "lag", "min": 0, "max": 4, "label": "Låg"},
                    {"id": "hog", "min": 5, "max": 6, "label": "Hög", "severity": "moderate"}]},
            ]}],
    }


def back_pain_template() -> dict[str, Any]:
    """A short form Norr shares with other units."""
    return {
        "formular": 1, "id": TEMPLATE_ID, "version": 1, "kind": "questionnaire",
        "title": "Ryggbesvär inför besök", "language": "sv", "languages": ["sv"],
        "contact": "Vårdcentralen Norr, 010-000 00 00",
        "schema": {"type": "object", "additionalProperties": False,
                   "required": ["smarta", "hur_lange"],
                   "properties": {
                       "smarta": {"type": "integer", "minimum": 0, "maximum": 10},
                       "hur_lange": {"enum": ["dagar", "veckor", "manader"]},
                       "arbete": {"type": "boolean"},
                       "beskrivning": {"type": "string", "maxLength": 2000}}},
        "layout": {"pages": [{"id": "besvar", "title": "Dina besvär", "sections": [
            {"id": "rygg", "items": [
                {"type": "scale", "name": "smarta", "label": "Hur ont har du just nu?",
                 "min_label": "Ingen smärta", "max_label": "Värsta tänkbara"},
                {"type": "choice", "name": "hur_lange", "label": "Hur länge har du haft ont?",
                 "options": [{"value": "dagar", "label": "Några dagar"},
                             {"value": "veckor", "label": "Några veckor"},
                             {"value": "manader", "label": "Mer än en månad"}]},
                {"type": "yes-no", "name": "arbete",
                 "label": "Påverkar besvären ditt arbete?"},
                {"type": "textarea", "name": "beskrivning",
                 "label": "Beskriv gärna besvären med egna ord"}]}]}]},
    }


def seed(session: Session) -> None:
    norr = session.scalar(select(Unit).where(Unit.slug == "vc-norr"))
    soder = session.scalar(select(Unit).where(Unit.slug == "vc-soder"))
    designer = session.scalar(select(StaffUser).where(StaffUser.username == "cecilia"))
    if norr is None or soder is None or designer is None:
        return
    seed_at(session, norr, soder, designer)


def seed_at(session: Session, home: Unit, other: Unit, designer: StaffUser) -> None:
    """The draft and the shared template at ``home``, the subscription at ``other``."""
    if session.scalar(select(DesignDraft.id).where(DesignDraft.unit_id == home.id)) is not None:
        return
    drafts.create_draft(session, unit_id=home.id, document=sleep_draft(), origin="blank",
                        staff_user_id=designer.id)
    template = drafts.create_draft(session, unit_id=home.id, document=back_pain_template(),
                                   origin="blank", staff_user_id=designer.id)
    workspace.publish(session, template, expected_revision=template.revision,
                      audience="shared", staff_user_id=designer.id)
    workspace.subscribe(session, unit_id=other.id, definition_id=TEMPLATE_ID, follow=True,
                        staff_user_id=designer.id)
    session.flush()
