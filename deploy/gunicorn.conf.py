"""gunicorn, the WSGI server of the HTTP API in production (nginx in front; docs/scaling.md).

Threads, not processes alone: a request waiting on PostgreSQL or Redis gives up the GIL, so a few
threads per process keep both cores busy. Every value can be set from the environment.
"""

import os

bind = f"{os.environ.get('CUNBO_HOST', '0.0.0.0')}:{os.environ.get('CUNBO_PORT', '8000')}"  # noqa: S104 - in a container
wsgi_app = "marketplace.wsgi:application"
worker_class = "gthread"
workers = int(os.environ.get("WEB_WORKERS", "2"))
threads = int(os.environ.get("WEB_THREADS", "8"))
# A request still running after this is a stuck worker: it is killed and replaced (the client gets
# an error from nginx; the checkout's transaction rolls back with its connection).
timeout = int(os.environ.get("WEB_TIMEOUT", "30"))
graceful_timeout = 20
# Idle keep-alive connections outlive nginx's (upstream keepalive_timeout 60 s), so the server
# never closes one that nginx is about to reuse.
keepalive = 75
# X-Forwarded-Proto from nginx sets wsgi.url_scheme; the client address is the app's (core/proxy.py).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# nginx writes the access log (without query strings); gunicorn logs only its own errors.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("WEB_LOG_LEVEL", "warning")
control_socket_disable = True
