# Prometheus (Debian's) with the scrape configuration of the cluster: docker build -f deploy/docker/prometheus.Dockerfile .
FROM python:3.11-slim-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends prometheus \
 && rm -rf /var/lib/apt/lists/* && pip install --no-cache-dir uv
WORKDIR /app
COPY pyproject.toml uv.lock ./
COPY libs libs
COPY deploy/cluster deploy/cluster
COPY services services
RUN uv sync --frozen --no-dev --package ariscale-cluster
ENV NODES=2 PORT_BASE=20000
# The same configuration as make up's: every service, every node's agent and Asterisk.
CMD ["sh", "-c", "cfg=\"$(/app/.venv/bin/python -m ariscale_cluster render-prometheus --state-dir /var/lib/ariscale/state --nodes $NODES --port-base $PORT_BASE)\" && exec prometheus --config.file=\"$cfg\" --storage.tsdb.path=/var/lib/ariscale/state/prometheus/data --web.listen-address=127.0.0.1:$((PORT_BASE + 99))"]
