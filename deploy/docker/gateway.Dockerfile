# ariscale gateway — build from the repository root: docker build -f deploy/docker/gateway.Dockerfile .
FROM python:3.11-slim-bookworm
RUN pip install --no-cache-dir uv
WORKDIR /app
# Third-party dependencies first, alone, so this layer caches across code changes.
COPY pyproject.toml uv.lock ./
COPY libs/common/pyproject.toml libs/common/
COPY libs/app_sdk/pyproject.toml libs/app_sdk/
COPY deploy/cluster/pyproject.toml deploy/cluster/
COPY services/gateway/pyproject.toml services/gateway/
COPY services/registry/pyproject.toml services/registry/
COPY services/conf_app/pyproject.toml services/conf_app/
COPY services/node_agent/pyproject.toml services/node_agent/
RUN uv sync --frozen --no-dev --no-install-workspace --package ariscale-gateway
COPY libs libs
COPY services/gateway services/gateway
RUN uv sync --frozen --no-dev --package ariscale-gateway
ENV PATH=/app/.venv/bin:$PATH
EXPOSE 20001
CMD ["uvicorn", "--factory", "gateway.main:create_app", "--host", "127.0.0.1", "--port", "20001", "--http", "ariscale_common.http_protocol:HeaderTimeoutH11Protocol"]
