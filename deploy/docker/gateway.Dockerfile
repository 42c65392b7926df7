# ariscale gateway: `make images` builds it from the repository root as localhost/ariscale-gateway.
# Configuration comes only from ARISCALE_* variables and mounted directories (see ariscale_cluster).
FROM localhost/ariscale-python
# The host's CA bundle, mounted for the build only (make images): PyPI through the machine's proxy.
ARG SSL_CERT_FILE=/etc/ssl/host-ca.crt PIP_CERT=/etc/ssl/host-ca.crt
# Third-party dependencies first, alone: this layer is reused until uv.lock changes.
COPY pyproject.toml uv.lock ./
COPY libs/common/pyproject.toml libs/common/
COPY libs/app_sdk/pyproject.toml libs/app_sdk/
COPY deploy/cluster/pyproject.toml deploy/cluster/
COPY services/gateway/pyproject.toml services/gateway/
COPY services/registry/pyproject.toml services/registry/
COPY services/conf_app/pyproject.toml services/conf_app/
COPY services/node_agent/pyproject.toml services/node_agent/
RUN --mount=type=cache,target=/root/.cache/uv uv sync --no-install-workspace --package ariscale-gateway
# Then the source: a one-line change rebuilds only these layers.
COPY libs libs
COPY services/gateway services/gateway
RUN --mount=type=cache,target=/root/.cache/uv uv sync --package ariscale-gateway
USER ariscale
CMD ["python", "-m", "uvicorn", "--factory", "gateway.main:create_app", "--host", "127.0.0.1", "--http", "ariscale_common.http_protocol:HeaderTimeoutH11Protocol", "--ws", "gateway.websocket_protocol:DroppingWebSocketProtocol"]
