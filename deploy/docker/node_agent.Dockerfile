# ariscale node_agent — build from the repository root: docker build -f deploy/docker/node_agent.Dockerfile .
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
RUN uv sync --frozen --no-dev --no-install-workspace --package ariscale-node-agent
COPY libs libs
COPY services/node_agent services/node_agent
RUN uv sync --frozen --no-dev --package ariscale-node-agent
ENV PATH=/app/.venv/bin:$PATH
EXPOSE 20012
CMD ["uvicorn", "--factory", "node_agent.main:create_app", "--host", "127.0.0.1", "--port", "20012"]
