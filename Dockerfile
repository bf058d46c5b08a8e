# The Cunbo application image: the WSGI server (the API), the ASGI server (the sockets), the Celery
# workers and beat; docker-compose.yml runs each from it with its own command.
#
# Three stages: the pages' browser packages (npm); wheels of exactly the versions pinned, with their
# hashes, in requirements.lock (production's half of the locks; requirements-dev.lock adds the dev
# tools); the last installs only those wheels, hash-checked again, so the image runs what CI tested,
# without compilers or pip's cache, as a user that owns only the paths it writes.

# The pages' browser-side packages (htmx, hls.js), pinned with their hashes in package-lock.json,
# copied where the app serves them itself (never a CDN): scripts/frontend.sh, as on a developer's machine.
FROM node:20-bookworm-slim AS frontend
WORKDIR /src
COPY package.json package-lock.json ./
COPY scripts/frontend.sh scripts/frontend.sh
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts --loglevel=error \
    && mkdir -p pages/static/pages && bash scripts/frontend.sh

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
COPY --from=frontend /src/pages/static/pages/vendor pages/static/pages/vendor
# collectstatic needs settings that import cleanly; these build-time values are not used at run time.
RUN SECRET_KEY=build-only PAYMENT_WEBHOOK_SECRET=build-only python manage.py collectstatic --noinput \
    && mkdir -p /app/media \
    && chown -R cunbo:cunbo /app/media
USER cunbo
EXPOSE 8000 8001
# The API (gunicorn, WSGI) by default; the socket server is `deploy/serve-ws` (uvicorn, ASGI). Both
# believe X-Forwarded-For / -Proto only from FORWARDED_ALLOW_IPS (nginx), never from "*", or any
# client could choose its address with the header and escape the per-address limits.
CMD ["deploy/serve-http"]
