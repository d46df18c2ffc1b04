"""Background jobs on Celery: bulk send-out fills, the minute tick (release, timers) and the
e-mail outbox.

Requests never do slow work themselves: they record a ``job`` row, register the task with
:func:`formular.jobs.queue.enqueue_after_commit`, and the page or ``formular jobs progress``
follows the row. Progress lives in the database, so Celery needs no result backend, and any
broker will do: kombu's SQLAlchemy transport on a SQLite file in the instance folder for the
embedded setting (no extra server), Redis or RabbitMQ in production.
"""
