"""One log format for every service: a JSON object per line, naming the call it is about.

Each line carries ``ts``, ``level``, ``service``, ``logger`` and ``msg``, then whatever the current
context knows: ``node``, ``app``, ``channel``, ``bridge``, ``request_id`` (set with
:func:`log_context`, kept in contextvars so concurrent requests and calls never mix). Secrets
(passwords, tokens, credentials in URLs) are masked before a line is written.
"""

import functools
import logging
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from ariscale_common import fast_json

CONTEXT_FIELDS = ("node", "app", "channel", "bridge", "request_id")
_context: ContextVar[dict[str, str]] = ContextVar("ariscale_log_context", default={})  # noqa: B039

MASK = "***"
# [user]:password@ in URLs (redis://:password@ has no user), key=value / "key": "value" for
# secret-looking keys, Bearer/Basic tokens.
_SECRETS = (
    (re.compile(r"(?P<keep>[a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@\s]+(?=@)", re.I), rf"\g<keep>{MASK}"),
    (
        re.compile(
            r"(?P<keep>[\"']?\b(?:password|passwd|secret|token|api_key|admin_token|authorization)\b[\"']?"
            r"\s*[=:]\s*[\"']?)(?:(?:Bearer|Basic)\s+)?[^\"'\s&,}]+",
            re.I,
        ),
        rf"\g<keep>{MASK}",
    ),
    (re.compile(r"(?P<keep>\b(?:Bearer|Basic)\s+)[A-Za-z0-9._~+/=-]+"), rf"\g<keep>{MASK}"),
)


# Every pattern above needs one of these (in lower case) to match: most lines have none, and
# this check costs a few percent of the three substitutions (a log line per call step adds up).
_SECRET_HINTS = ("@", "passw", "secret", "token", "api_key", "authorization", "bearer", "basic")


def redact(text: str) -> str:
    """``text`` with every password, token and URL credential replaced by ``***``."""
    lowered = text.lower()
    if not any(hint in lowered for hint in _SECRET_HINTS):
        return text
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


@contextmanager
def log_context(**fields: str | None) -> Iterator[None]:
    """Add fields (``app=``, ``channel=``, …) to every line logged inside the block."""
    token = _context.set({**_context.get(), **{k: v for k, v in fields.items() if v}})
    try:
        yield
    finally:
        _context.reset(token)


@functools.lru_cache(maxsize=2)
def _utc_second(epoch_s: int) -> str:
    # Lines come many to a second: format its time once.
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch_s))


class JsonFormatter(logging.Formatter):
    """A record as one JSON line, context fields included, secrets masked."""

    def __init__(self, service: str, node: str | None = None) -> None:
        super().__init__()
        self.service = service
        self.node = node

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, str] = {
            "ts": f"{_utc_second(int(record.created))}.{int(record.msecs):03d}Z",
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if self.node:
            line["node"] = self.node
        line.update(_context.get())
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return redact(fast_json.dumps(line))


def configure_logging(service: str, level: str = "INFO", node: str | None = None) -> None:
    """Send every logger to stderr as JSON lines naming the service (and node)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service, node))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # The lines name the call, not the source line or the thread: spare every record the stack
    # walk to its caller and the thread and process lookups (logging's documented switches; a
    # few microseconds a line, and the agents and the gateway log a line per call step or request).
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    # One line per HTTP request to a node drowns what matters; errors still come through.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # uvicorn installs its own handlers: route its lines through ours, in the same format. Its
    # access log stays as the command line set it (off: RequestIdMiddleware writes a richer one).
    for name in ("uvicorn", "uvicorn.error"):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers[:] = []
        uvicorn_logger.propagate = True
