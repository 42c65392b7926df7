# ariscale registry — build from the repository root: docker build -f deploy/docker/registry.Dockerfile .
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
RUN uv sync --frozen --no-dev --no-install-workspace --package ariscale-registry
COPY libs libs
COPY services/registry services/registry
RUN uv sync --frozen --no-dev --package ariscale-registry
ENV PATH=/app/.venv/bin:$PATH
EXPOSE 20000
CMD ["uvicorn", "--factory", "registry.main:create_app", "--host", "127.0.0.1", "--port", "20000"]
