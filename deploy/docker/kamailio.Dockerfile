# The SIP edge (Kamailio 5.6 with dispatcher): docker build -f deploy/docker/kamailio.Dockerfile .
FROM python:3.11-slim-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends kamailio \
 && rm -rf /var/lib/apt/lists/* && pip install --no-cache-dir uv
WORKDIR /app
COPY pyproject.toml uv.lock ./
COPY libs libs
COPY deploy/cluster deploy/cluster
COPY services services
RUN uv sync --frozen --no-dev --package ariscale-cluster
ENV NODES=2 PORT_BASE=20000
# The dispatch list lives on a volume shared with the registry, which keeps it equal to the healthy nodes.
CMD ["sh", "-c", "exec kamailio -DD -E -f \"$(/app/.venv/bin/python -m ariscale_cluster render-edge --state-dir /var/lib/ariscale/state --nodes $NODES --port-base $PORT_BASE)\""]
