# syntax=docker/dockerfile:1
# envmon's one image: every envmon service (worker, sink, notifier, archive, gateway, init,
# simulator) is this image with another command, e.g. `docker run envmon sink`.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- build: a virtual environment with the dependencies, then envmon itself -------------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/envmon
WORKDIR /src
# Dependencies come from pyproject.toml alone, so this layer is rebuilt only when they change.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > requirements.txt \
 && /opt/envmon/bin/pip install -r requirements.txt
COPY README.md ./
COPY pipeline ./pipeline
COPY streams ./streams
COPY dashboards ./dashboards
RUN /opt/envmon/bin/pip install --no-deps . \
 && /opt/envmon/bin/envmon --help > /dev/null

# --- runtime: the environment only, run by an unprivileged user -------------------------------
FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="envmon" \
      org.opencontainers.image.description="Air and water monitoring pipeline: Kafka -> stream agents -> InfluxDB, alerts, archive" \
      org.opencontainers.image.licenses="Apache-2.0"
# The directories exist in the image so that named volumes mounted on them (archive files,
# notifier outbox) start owned by envmon.
RUN groupadd --system --gid 10001 envmon \
 && useradd --system --uid 10001 --gid envmon --home-dir /var/lib/envmon --shell /usr/sbin/nologin envmon \
 && mkdir -p /var/lib/envmon/archive /var/lib/envmon/notifier \
 && chown -R envmon:envmon /var/lib/envmon
COPY --from=build /opt/envmon /opt/envmon
ENV PATH=/opt/envmon/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    ENVMON_STATE_DIR=/var/lib/envmon \
    ENVMON_TABLE_STORE=rocksdb
WORKDIR /var/lib/envmon
USER envmon:envmon
# worker web, sink health, notifier web (acknowledge links), gateway health, archive health
# (compose's choices), and HJ 212 over TCP
EXPOSE 6066 8787 8788 8789 8790 9212
# Probes the worker's /health (the default command); compose sets each service's own probe.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-m", "pipeline.stack.probe"]
ENTRYPOINT ["envmon"]
CMD ["worker"]
