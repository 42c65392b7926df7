# Consul 1.8.7 (Debian bullseye's, unpacked by provision.sh): `make images` builds it as
# localhost/ariscale-consul with /var/cache/ariscale/consul-1.8.7 as the build context.
FROM localhost/ariscale-bookworm
COPY usr/bin/consul /usr/bin/consul
ARG ARISCALE_UID=10001
RUN useradd --system --uid "$ARISCALE_UID" --no-create-home --shell /usr/sbin/nologin ariscale
USER ariscale
CMD ["consul", "version"]
