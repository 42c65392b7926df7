"""One log format for every service: time, level, service, logger, message."""

import logging
import sys


def configure_logging(service: str, level: str = "INFO") -> None:
    """Send every logger to stderr with the service's name on each line."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(f"%(asctime)s %(levelname)s {service} %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # One line per HTTP request to a node drowns what matters; errors still come through.
    logging.getLogger("httpx").setLevel(logging.WARNING)
