# The base of every Python service: bookworm's Python 3.11, uv, and the non-root user services run as.
# Built by `make images` from localhost/ariscale-bookworm (debootstrap, no registry needed).
FROM localhost/ariscale-bookworm
# The host's CA bundle, mounted for the build only (make images): PyPI through the machine's proxy.
ARG SSL_CERT_FILE=/etc/ssl/host-ca.crt PIP_CERT=/etc/ssl/host-ca.crt
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv ca-certificates \
 && rm -rf /var/lib/apt/lists/*
ARG UV_VERSION=0.13.9
RUN python3 -m venv /opt/uv && /opt/uv/bin/pip install --no-cache-dir "uv==$UV_VERSION" \
 && ln -s /opt/uv/bin/uv /usr/local/bin/uv
ARG ARISCALE_UID=10001
RUN useradd --system --uid "$ARISCALE_UID" --home-dir /app --shell /usr/sbin/nologin ariscale
# uv: the system Python, never a download; a copied (not hard-linked) environment.
ENV UV_PYTHON=/usr/bin/python3 UV_PYTHON_DOWNLOADS=never UV_LINK_MODE=copy UV_COMPILE_BYTECODE=1 \
    UV_FROZEN=1 UV_NO_DEV=1 PATH=/app/.venv/bin:$PATH PYTHONUNBUFFERED=1
WORKDIR /app
