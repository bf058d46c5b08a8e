"""``manage.py serve``: the whole product in one process, for the embedded default (``make run``).

HTTP and sockets on one port (uvicorn, the ASGI application) and, when there is no broker, the
periodic jobs in a thread of the same process (core/scheduler.py). Ctrl-C stops all of it.
Production runs the WSGI and ASGI servers and Celery beat apart (deploy/, docker-compose.yml).
"""

from __future__ import annotations

import uvicorn
from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils.translation import gettext_lazy as _

from core.scheduler import embedded_beat_start


class Command(BaseCommand):
    help = _("Serve HTTP and WebSocket on one port, with the periodic jobs when there is no broker.")

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-beat", action="store_true", help=_("Do not run the periodic jobs here."))

    def handle(self, *args, host, port, no_beat, **options):
        beat = None if no_beat else embedded_beat_start()
        if beat is None and settings.CELERY_TASK_ALWAYS_EAGER:
            self.stderr.write(self.style.WARNING("periodic jobs are off: offers and unpaid orders will not expire"))
        try:
            uvicorn.run("marketplace.asgi:application", host=host, port=port, ws_per_message_deflate=False,
                        ws_max_size=65536, log_level="info")
        finally:
            if beat is not None:
                beat.stop()
