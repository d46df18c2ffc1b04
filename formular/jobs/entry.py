"""The module ``celery -A formular.jobs.entry worker`` loads: the app from ``FORMULAR_*``.

``formular worker`` is the usual way to start a worker; this entry point is for Celery's own
command line (``celery -A formular.jobs.entry inspect …``, a separate ``celery beat``) and for
process managers that expect it.
"""

from __future__ import annotations

from formular import create_app

from .celery_app import get_celery

flask_app = create_app()
celery = get_celery(flask_app)
