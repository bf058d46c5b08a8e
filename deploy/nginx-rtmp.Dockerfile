# Cunbo media server (RTMP ingest -> HLS), Debian nginx + libnginx-mod-rtmp.
# Build (context = repo root):  docker build -f deploy/nginx-rtmp.Dockerfile -t cunbo-media .
#   compose: build: {context: ., dockerfile: deploy/nginx-rtmp.Dockerfile}
# Run:    docker run -e HOOK_SECRET=... -e CUNBO_API=http://web:8000 -p 1935:1935 -p 8080:8080 cunbo-media
# The config is deploy/nginx-rtmp.conf.template rendered with envsubst at start
# (see deploy/README-media.md). The tests render the same template.
FROM debian:bookworm-slim

RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        nginx libnginx-mod-rtmp gettext-base \
    && rm -rf /var/lib/apt/lists/* \
    && rm -f /etc/nginx/sites-enabled/default \
    && mkdir -p /var/hls /var/lib/nginx \
    && chown www-data:www-data /var/hls

COPY deploy/nginx-rtmp.conf.template /etc/nginx/nginx-rtmp.conf.template

# Production defaults for every placeholder except HOOK_SECRET (required).
ENV CUNBO_API=http://web:8000 \
    RTMP_LISTEN=1935 \
    RTMP_RELAY=127.0.0.1:1935 \
    HTTP_LISTEN=8080 \
    HLS_PATH=/var/hls \
    NGINX_USER=www-data \
    NGINX_PID=/run/nginx.pid \
    NGINX_ERROR_LOG=/dev/stderr \
    NGINX_LOG_LEVEL=warn \
    NGINX_ACCESS_LOG=/dev/stdout \
    NGINX_TEMP_DIR=/var/lib/nginx

EXPOSE 1935 8080
STOPSIGNAL SIGQUIT

# Render (explicit variable list: envsubst must never touch nginx's own $vars),
# validate, then run nginx in the foreground as PID 1.
CMD ["/bin/sh", "-ec", "\
: \"${HOOK_SECRET:?HOOK_SECRET must be set}\"; \
mkdir -p \"$HLS_PATH\" \"$NGINX_TEMP_DIR\"; \
chown \"$NGINX_USER\" \"$HLS_PATH\"; \
envsubst '${CUNBO_API} ${HOOK_SECRET} ${RTMP_LISTEN} ${RTMP_RELAY} ${HTTP_LISTEN} ${HLS_PATH} ${NGINX_USER} ${NGINX_PID} ${NGINX_ERROR_LOG} ${NGINX_LOG_LEVEL} ${NGINX_ACCESS_LOG} ${NGINX_TEMP_DIR}' \
  < /etc/nginx/nginx-rtmp.conf.template > /etc/nginx/nginx.conf; \
nginx -t -q; \
exec nginx -g 'daemon off;'"]
