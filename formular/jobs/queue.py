"""Queue a task only once the transaction that asked for it has committed.

A request that records a send-out and queues its fill in the same breath must not start the
job if the request then fails: the worker would look for a ``job`` row that was rolled back
(or, worse, for one another request's id reused). So a request calls
:func:`enqueue_after_commit` and the message is published from the session's
``after_commit`` hook. Rolling back the transaction, or only the savepoint the call was made
in, drops it; closing the session without committing drops it too.

Publishing happens after the commit, so a broker that is down cannot undo the request: the
error is logged with the task and its arguments (ids only), and the job row stays
``queued`` for ``formular jobs resume`` (or the page) to queue it again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from celery import Celery
from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction, scoped_session

from .celery_app import get_celery

log = logging.getLogger(__name__)

_PENDING = "formular.jobs.pending"
_LISTENING = "formular.jobs.listening"


@dataclass(frozen=True)
class _Pending:
    celery: Celery
    task_name: str
    args: tuple[Any, ...]
    #: The innermost transaction (a savepoint, maybe) the task was queued in.
    transaction: SessionTransaction


def enqueue(task_name: str, *args: Any, celery: Celery | None = None) -> None:
    """Publish a task now (CLI, other tasks). Honours ``CELERY_TASK_ALWAYS_EAGER``."""
    target = celery if celery is not None else get_celery(current_app._get_current_object())  # type: ignore[attr-defined]
    task = target.tasks.get(task_name)
    if task is not None:
        task.apply_async(args=list(args))
    else:  # a task this process does not define: send it by name to whoever does
        target.send_task(task_name, args=list(args))


def enqueue_after_commit(session: Session | scoped_session[Session], task_name: str,
                         *args: Any, celery: Celery | None = None) -> None:
    """Publish ``task_name(*args)`` after ``session`` commits; never if it rolls back.

    ``args`` must be JSON values (ids). ``celery`` defaults to the current Flask app's.
    """
    if isinstance(session, scoped_session):
        session = session()
    target = celery if celery is not None else get_celery(current_app._get_current_object())  # type: ignore[attr-defined]
    if not session.info.get(_LISTENING):
        event.listen(session, "after_commit", _after_commit)
        event.listen(session, "after_soft_rollback", _after_soft_rollback)
        event.listen(session, "after_transaction_end", _after_transaction_end)
        session.info[_LISTENING] = True
    # Begin the transaction autobegin would begin at the first statement: with none, a
    # rollback is a no-op without events, and the task would leak into the next commit.
    transaction = (session.get_nested_transaction() or session.get_transaction()
                   or session.begin())
    session.info.setdefault(_PENDING, []).append(
        _Pending(target, task_name, tuple(args), transaction))


def _after_commit(session: Session) -> None:
    pending: list[_Pending] = session.info.pop(_PENDING, [])
    for item in pending:
        try:
            enqueue(item.task_name, *item.args, celery=item.celery)
        except Exception:  # the data is committed; a failed publish must not fail the request
            log.exception("could not queue %s%r after commit; queue it again by hand",
                          item.task_name, item.args)


def _within(transaction: SessionTransaction, ended: SessionTransaction) -> bool:
    current: SessionTransaction | None = transaction
    while current is not None:
        if current is ended:
            return True
        current = current.parent
    return False


def _after_soft_rollback(session: Session, previous_transaction: SessionTransaction) -> None:
    """A rolled-back transaction or savepoint takes the tasks queued inside it along."""
    pending: list[_Pending] = session.info.get(_PENDING, [])
    kept = [item for item in pending if not _within(item.transaction, previous_transaction)]
    if len(kept) != len(pending):
        session.info[_PENDING] = kept


def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    """The outermost transaction ended without ``after_commit`` (closed, rolled back):
    forget whatever is left, so a later transaction cannot publish it."""
    if transaction.parent is None and not transaction.nested:
        session.info.pop(_PENDING, None)
