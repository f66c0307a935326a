# digestbot in a container: `docker compose up -d` (see compose.yaml and README "Deploy").
# Slim Python base, a non-root user, the database on the /data volume, tokens from the environment.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DIGESTBOT_CONFIG=/config/config.toml

WORKDIR /src
COPY pyproject.toml README.md ./
COPY app ./app
COPY bot ./bot
COPY adapters ./adapters
COPY scheduler ./scheduler
COPY web ./web
RUN pip install . \
    && useradd --system --uid 10001 --user-group --home-dir /data --shell /usr/sbin/nologin digestbot \
    && mkdir -p /data /config \
    && chown digestbot:digestbot /data \
    && chmod 0700 /data

# Relative storage paths (the default "digestbot.db") land on the volume.
WORKDIR /data
VOLUME ["/data"]
USER digestbot

# [web] listen = "0.0.0.0:8080" in the mounted config.toml serves /healthz and /metrics here.
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4).status != 200)"]

# `run` finishes the send in flight and exits within seconds of SIGTERM (compose: stop_grace_period).
STOPSIGNAL SIGTERM
ENTRYPOINT ["digestbot"]
CMD ["run"]
