# An Asterisk 22 node (Debian sid). Its configuration is rendered at start by the same code as
# the native cluster: docker build -f deploy/docker/asterisk.Dockerfile .
FROM debian:sid-slim
RUN apt-get -o Acquire::Check-Valid-Until=false update \
 && apt-get install -y --no-install-recommends asterisk asterisk-modules asterisk-core-sounds-en \
      asterisk-moh-opsound-wav python3 python3-venv ca-certificates \
 && rm -rf /var/lib/apt/lists/*
RUN python3 -m venv /opt/uv && /opt/uv/bin/pip install --no-cache-dir uv
WORKDIR /app
COPY pyproject.toml uv.lock ./
COPY libs libs
COPY deploy/cluster deploy/cluster
COPY services services
RUN /opt/uv/bin/uv sync --frozen --no-dev --package ariscale-cluster
ENV NODE_ID=n1 NODES=2 PORT_BASE=20000
CMD ["sh", "-c", "exec /usr/sbin/asterisk -f -n -C \"$(/app/.venv/bin/python -m ariscale_cluster render-node --state-dir /var/lib/ariscale/state --nodes $NODES --port-base $PORT_BASE --node-id $NODE_ID)\""]
