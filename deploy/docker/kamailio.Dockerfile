# The SIP edge (Kamailio 5.6 with dispatcher): `make images` builds it as localhost/ariscale-kamailio.
# Its configuration and dispatch list are rendered by ariscale_cluster and mounted (the registry
# rewrites the list in the same mounted directory).
FROM localhost/ariscale-python
RUN apt-get update && apt-get install -y --no-install-recommends kamailio \
 && rm -rf /var/lib/apt/lists/*
USER ariscale
CMD ["kamailio", "-v"]
