"""The names a workflow document may use: validators, actions, and the reasons for refusals.

A *validator* is a pure function of the :class:`~formular.workflow.context.Context` that
returns ``None`` (go ahead) or a reason key from :data:`REASONS` (refused, and why). It reads
only what the caller put in the context: the engine never looks anything up. Validators are
registered by decorator, and the loader rejects a document naming one that is not registered.

An *action* is only a name here: the engine returns the names of a taken transition and the
service layer performs them (after its commit, for anything that leaves the process). The list
is closed so that a typo in a workflow is a load-time problem, not a silently skipped e-mail.

Reasons are English message ids marked with :func:`N_` so Babel extracts them; the web layer
translates them with ``_()`` when it shows them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Final

from .context import Context, instant

Validator = Callable[[Context], "str | None"]


def N_(message: str) -> str:  # noqa: N802 - the gettext convention Babel extracts by default
    """Mark *message* for extraction without translating it now."""
    return message


#: Every reason a refusal can carry, with its English text (a gettext message id).
REASONS: Final[Mapping[str, str]] = MappingProxyType({
    "forbidden": N_("You are not allowed to do this."),
    "no-transition": N_("This cannot be done at this stage."),
    "not-applicable": N_("This does not apply here."),
    "unknown-state": N_("This item is in a state its workflow does not know."),
    "unknown-validator": N_("This step is misconfigured. Contact the support desk."),
    "answers-invalid": N_("Some answers are missing or not valid. Check them and send again."),
    "expired": N_("The form has expired and can no longer be answered."),
    "deadline-passed": N_("The deadline has passed."),
    "reminded-recently": N_("A reminder was sent less than a day ago."),
    "message-empty": N_("Write a message before sending."),
    "result-missing": N_("Record a result (positive, negative or inconclusive) first."),
    "not-eligible": N_("The recipient does not meet the eligibility rules of this form."),
})

#: Every action a workflow may name, with what the service layer does for it.
ACTIONS: Final[Mapping[str, str]] = MappingProxyType({
    "notify_citizen": "put a message in the citizen's inbox and send a content-free e-mail/SMS",
    "notify_staff": "notify the unit's staff (respecting their notification settings)",
    "mark_handled": "record who marked the subject handled (journalförd) and when",
    "record_submission": "store the answers as a submission bound to the definition version",
    "schedule_reminders": "queue the subject's timers with the job layer",
    "cancel_timers": "drop the subject's queued timers",
    "send_message": "append the event's message to the case or programme thread",
    "flag_overdue": "raise an overdue flag on the subject in staff lists",
    "send_to_lab": "forward the order to the laboratory",
    "record_result": "store the laboratory result on the order",
    "create_referral": "create a treatment referral the citizen can show at a clinic",
    "generate_document": "render the subject as a PDF document for the record",
    "open_next_module": "fire 'open' on the programme's next module as the system",
})

_VALIDATORS: dict[str, Validator] = {}

#: The shortest time between two manual reminders of the same subject.
MIN_REMINDER_INTERVAL: Final = dt.timedelta(hours=24)
#: The results a laboratory may record.
RESULTS: Final = ("positive", "negative", "inconclusive")


def validator(name: str) -> Callable[[Validator], Validator]:
    """Register the decorated function as the validator *name*.

    :raises ValueError: when *name* is already registered.
    """

    def register(function: Validator) -> Validator:
        if name in _VALIDATORS:
            raise ValueError(f"validator {name!r} is already registered")
        _VALIDATORS[name] = function
        return function

    return register


def get_validator(name: str) -> Validator | None:
    """The validator registered as *name*, or ``None``."""
    return _VALIDATORS.get(name)


def validator_names() -> frozenset[str]:
    """Every registered validator name."""
    return frozenset(_VALIDATORS)


# --- The built-in validators --------------------------------------------------------------


@validator("answers_valid")
def answers_valid(context: Context) -> str | None:
    """The caller validated the answers against the definition and put ``answers_valid: true``
    in the data. Anything else (missing, false, not a boolean) refuses: fail closed."""
    return None if context.data.get("answers_valid") is True else "answers-invalid"


@validator("not_expired")
def not_expired(context: Context) -> str | None:
    """Before ``assignment.expires_at`` (no expiry, or an unreadable one, never refuses)."""
    expires = instant(context.assignment.get("expires_at"))
    return "expired" if expires is not None and context.utc_now >= expires else None


@validator("deadline_not_passed")
def deadline_not_passed(context: Context) -> str | None:
    """Not after ``assignment.deadline_at`` (the deadline instant itself is still in time)."""
    deadline = instant(context.assignment.get("deadline_at"))
    return "deadline-passed" if deadline is not None and context.utc_now > deadline else None


@validator("not_reminded_recently")
def not_reminded_recently(context: Context) -> str | None:
    """At least :data:`MIN_REMINDER_INTERVAL` since ``assignment.last_reminded_at``, so a
    double click or two colleagues do not send a citizen two reminders in a day."""
    last = instant(context.assignment.get("last_reminded_at"))
    if last is not None and context.utc_now - last < MIN_REMINDER_INTERVAL:
        return "reminded-recently"
    return None


@validator("message_not_empty")
def message_not_empty(context: Context) -> str | None:
    """``data.message`` is text with something other than white space in it."""
    message = context.data.get("message")
    return None if isinstance(message, str) and message.strip() else "message-empty"


@validator("result_recorded")
def result_recorded(context: Context) -> str | None:
    """``data.result`` is one of :data:`RESULTS`."""
    return None if context.data.get("result") in RESULTS else "result-missing"


@validator("eligible")
def eligible(context: Context) -> str | None:
    """The subject meets ``settings.eligibility`` (age range, counties), re-checked when the
    transition happens because a scheduled send-out may go out after a birthday or a move.

    ``assignment.age`` (whole years) and ``assignment.county`` (two-digit county code) must be
    given when the setting restricts them; an unknown value refuses (fail closed).
    """
    rules = context.settings.get("eligibility")
    if not isinstance(rules, Mapping):
        return None
    age = context.assignment.get("age")
    if not isinstance(age, int) or isinstance(age, bool):
        age = None
    lowest, highest = rules.get("age_min"), rules.get("age_max")
    if isinstance(lowest, int) and (age is None or age < lowest):
        return "not-eligible"
    if isinstance(highest, int) and (age is None or age > highest):
        return "not-eligible"
    counties = rules.get("counties")
    if isinstance(counties, list) and context.assignment.get("county") not in counties:
        return "not-eligible"
    return None
