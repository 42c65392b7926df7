"""``make chaos``: each fault once under steady SIP load, and what it cost; ``make soak`` shares it."""
