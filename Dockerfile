# The Cunbo application image: the ASGI web server, the Celery workers and beat.
#
# Two stages: the first builds wheels of exactly the versions pinned, with their hashes, in
# requirements.lock (production's half of the locks; requirements-dev.lock adds the dev tools);
# the second installs only those wheels, hash-checked again, so the image runs what CI tested,
# without compilers or pip's cache, as a user that owns only the paths it writes.

FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY requirements.lock ./
# Wheels of the dependencies only (the project itself runs from its source tree in /app, where
# settings find the project-wide translations and the static files).
RUN pip wheel --wheel-dir /wheels --require-hashes -r requirements.lock

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext curl \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --create-home --uid 1000 cunbo
COPY --from=build /wheels /wheels
COPY requirements.lock /tmp/requirements.lock
RUN pip install --no-index --find-links /wheels --require-hashes -r /tmp/requirements.lock \
    && rm -rf /wheels /tmp/requirements.lock
WORKDIR /app
COPY . .
# collectstatic needs settings that import cleanly; these build-time values are not used at run time.
RUN SECRET_KEY=build-only PAYMENT_WEBHOOK_SECRET=build-only python manage.py collectstatic --noinput \
    && mkdir -p /app/media \
    && chown -R cunbo:cunbo /app/media
USER cunbo
EXPOSE 8000
# Client addresses (for the per-address rate limits) come from X-Forwarded-For only when the peer is
# a proxy named in FORWARDED_ALLOW_IPS (uvicorn's default: 127.0.0.1); trusting "*" would let any
# client choose its address with the header. WebSocket frames over 64 KiB are refused by the server
# (and by the app itself, whatever the server's flags).
# Idle keep-alive connections live 75 s, longer than a proxy's or a client's (nginx: 60 s), so the
# server never closes one that its peer is about to reuse (a reset before any answer).
CMD ["uvicorn", "marketplace.asgi:application", "--host", "0.0.0.0", "--port", "8000", \
     "--ws-per-message-deflate", "false", "--ws-max-size", "65536", "--proxy-headers", \
     "--timeout-keep-alive", "75"]
