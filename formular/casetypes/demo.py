"""Demo content of case types (issue #6): what Vårdcentralen Norr offers, its standard replies,
a restricted case type handed out to one demo citizen, and two staff members who receive and
handle the cases.

Called once by :func:`formular.demo.seed` after the demo units, staff and citizens exist, and
after ``designs/`` is loaded (the shipped case types); the three clinic-made case types in
``designs/clinic-examples/`` are stored here as owned by Vårdcentralen Norr (local case types).
Demo passwords are printed on purpose: this content exists only in the demo setting.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from formular.auth.clock import swedish_today
from formular.storage.base import utcnow
from formular.storage.identity import Citizen, Role, RoleAssignment, StaffUser, Unit

from . import service
from .examples import store_for_unit

#: username, display name, roles at the clinic
STAFF = [
    ("gunilla", "Gunilla Grön (ärendemottagare, sjuksköterska)",
     [Role.CASE_RECEIVER, Role.CASE_HANDLER]),
    ("hugo", "Hugo Holm (läkare, ärendehanterare)", [Role.CASE_HANDLER]),
]

#: The ten central case types (shipped in designs/).
CENTRAL = [
    "case-rebook-appointment", "case-request-certificate", "case-order-record-copy",
    "case-book-appointment", "case-ask-nurse", "case-extend-sick-leave", "case-renew-aid",
    "case-renew-prescription", "case-contact-me", "case-advice",
]
#: The clinic's own case types (designs/clinic-examples/).
LOCAL = ["case-message-doctor", "case-test-results", "case-referral-status"]
#: Case types where citizens may attach files (photos of a rash, a pack, a letter).
WITH_ATTACHMENTS = {
    "case-request-certificate", "case-ask-nurse", "case-extend-sick-leave", "case-renew-aid",
    "case-renew-prescription", "case-advice", "case-message-doctor", "case-test-results",
    "case-referral-status",
}
#: Handed out only to named citizens (R-34).
RESTRICTED = {"case-test-results"}
#: What Vårdcentralen Söder offers (so the clinic search finds two clinics).
SODER = ["case-book-appointment", "case-renew-prescription", "case-contact-me"]

SIGNATURE = "\n\nVänliga hälsningar\nVårdcentralen Norr"
#: (case type or None for every case type, title, body)
REPLIES: list[tuple[str | None, str, str]] = [
    ("case-renew-prescription", "Receptet är förnyat",
     "Hej!\n\nDitt recept är förnyat. Det finns nu som e-recept och du kan hämta ut "
     "läkemedlet på valfritt apotek." + SIGNATURE),
    ("case-renew-prescription", "Recept kräver besök",
     "Hej!\n\nInnan vi kan förnya receptet behöver läkaren träffa dig för en uppföljning. "
     "Vi återkommer med en tid. Har du inte tillräckligt med läkemedel tills dess, ring oss."
     + SIGNATURE),
    ("case-book-appointment", "Tid är bokad",
     "Hej!\n\nDu har fått en tid hos oss. Datum och tid står i svaret ovan. Kom gärna tio "
     "minuter innan. Om tiden inte passar kan du boka om den här i e-tjänsten." + SIGNATURE),
    ("case-rebook-appointment", "Tiden är avbokad",
     "Hej!\n\nDin tid är avbokad. Välkommen att boka en ny tid när det passar dig."
     + SIGNATURE),
    ("case-ask-nurse", "Egenvård vid förkylning",
     "Hej!\n\nDet du beskriver låter som en vanlig förkylning. Vila, drick mycket och ta "
     "febernedsättande vid behov. Hör av dig igen om du inte är bättre om en vecka, eller "
     "ring 1177 om du blir sämre." + SIGNATURE),
    ("case-test-results", "Proverna var normala",
     "Hej!\n\nDina provsvar har kommit och visade inget avvikande. Du behöver inte göra "
     "något mer." + SIGNATURE),
    (None, "Tack för ditt meddelande",
     "Hej!\n\nTack för ditt meddelande. Vi har tagit emot det och återkommer så snart vi "
     "kan." + SIGNATURE),
    (None, "Vi behöver mer information",
     "Hej!\n\nFör att kunna hjälpa dig behöver vi veta lite mer. Svara gärna på frågan "
     "nedan." + SIGNATURE),
]
#: The demo citizen who has "Svar på provtagning" handed out (Alva Ahlström, demo.py).
GRANTEE = "Alva Ahlström"
GRANT_DAYS = 90


def seed(session: Session, clinic: Unit, other: Unit, password_hash: str,
         designs_dir: Path | None = None) -> list[tuple[str, str]]:
    """Add the case-type demo; returns the new staff as (username, display name) to print.
    Does nothing (returns []) when it is already there."""
    if session.scalar(select(StaffUser.id).where(StaffUser.username == STAFF[0][0])):
        return []
    added = []
    for username, display, roles in STAFF:
        user = StaffUser(username=username, display_name=display, password_hash=password_hash,
                         email=f"{username}@example.org")
        session.add(user)
        session.flush()
        for role in roles:
            session.add(RoleAssignment(user_id=user.id, unit_id=clinic.id, role=role))
        added.append((username, display))
    session.flush()
    store_for_unit(session, designs_dir or _designs_dir(), clinic.id)
    usable = {s.definition_id for s in service.usable_case_types(session, clinic.id)}
    for definition_id in CENTRAL + LOCAL:
        if definition_id not in usable:  # designs/ not loaded: offer what there is
            continue
        service.save_setting(session, unit_id=clinic.id, definition_id=definition_id,
                             enabled=True,
                             attachments_enabled=definition_id in WITH_ATTACHMENTS,
                             restricted=definition_id in RESTRICTED, terms_text=None,
                             staff_user_id=None)
    for definition_id in SODER:
        if definition_id in usable:
            service.save_setting(session, unit_id=other.id, definition_id=definition_id,
                                 enabled=True, attachments_enabled=False, restricted=False,
                                 terms_text=None, staff_user_id=None)
    for reply_type, title, body in REPLIES:
        if reply_type is None or reply_type in usable:
            service.save_standard_reply(session, unit_id=clinic.id, reply_id=None,
                                        definition_id=reply_type, title=title, body=body,
                                        active=True, staff_user_id=None)
    grantee = session.scalar(select(Citizen).where(Citizen.name == GRANTEE))
    today = swedish_today(utcnow())
    for definition_id in RESTRICTED & usable:
        if grantee is not None:
            service.grant(session, unit_id=clinic.id, definition_id=definition_id,
                          citizen=grantee, valid_until=today + dt.timedelta(days=GRANT_DAYS),
                          today=today, staff_user_id=None)
    session.flush()
    return added


def _designs_dir() -> Path:
    from flask import current_app, has_app_context

    if has_app_context():
        return Path(current_app.config["DESIGNS_DIR"])
    from formular.config import DEFAULTS

    return Path(DEFAULTS["DESIGNS_DIR"])
