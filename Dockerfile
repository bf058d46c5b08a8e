# The Cunbo application image: the ASGI web server, the Celery worker and beat.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext curl \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --create-home --uid 1000 cunbo
WORKDIR /app
COPY pyproject.toml README.md ./
COPY . .
RUN pip install --upgrade pip && pip install .
# collectstatic needs settings that import cleanly; these build-time values are not used at run time.
RUN SECRET_KEY=build-only PAYMENT_WEBHOOK_SECRET=build-only python manage.py collectstatic --noinput
USER cunbo
EXPOSE 8000
# Client addresses (for the per-address rate limits) come from X-Forwarded-For only when the peer is
# a proxy named in FORWARDED_ALLOW_IPS (uvicorn's default: 127.0.0.1); trusting "*" would let any
# client choose its address with the header. WebSocket frames over 64 KiB are refused by the server.
# Idle keep-alive connections live 75 s, longer than a proxy's or a client's (nginx: 60 s), so the
# server never closes one that its peer is about to reuse (a reset before any answer).
CMD ["uvicorn", "marketplace.asgi:application", "--host", "0.0.0.0", "--port", "8000", \
     "--ws-per-message-deflate", "false", "--ws-max-size", "65536", "--proxy-headers", \
     "--timeout-keep-alive", "75"]
