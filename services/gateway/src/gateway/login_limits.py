"""Repeated login failures from one client, for one app name, are refused for a while.

Keyed by (client address, app name, credential generation): a client guessing one app's password
is slowed down, while other apps logging in from the same address (or anywhere else) are not.
The generation names the stored hash (or its absence): unknown names are limited exactly like
known ones (no telling them apart), yet failures recorded before an app existed, or before its
password was rotated, do not lock the new credentials out. Attempts in flight
count, so a burst of concurrent guesses cannot run more scrypt checks than the limit allows.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ariscale_common.errors import ApiError

_MAX_BUCKETS = 10_000  # beyond this, idle buckets are dropped (guessing many names costs memory)


class TooManyFailures(ApiError):
    status = 429
    error_id = "too-many-login-failures"


@dataclass
class _Bucket:
    failures: list[float] = field(default_factory=list)
    in_flight: int = 0


class LoginLimiter:
    def __init__(
        self, max_failures: int = 10, window: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._max = max_failures
        self._window = window
        self._clock = clock
        self._buckets: dict[tuple[str, str, str], _Bucket] = {}

    def begin(self, client: str, user: str, generation: str = "") -> None:
        """Reserve an attempt; :class:`TooManyFailures` when the client used them all up."""
        cutoff = self._clock() - self._window
        if len(self._buckets) > _MAX_BUCKETS:
            self._forget_idle(cutoff)
        bucket = self._buckets.setdefault((client, user, generation), _Bucket())
        bucket.failures = [t for t in bucket.failures if t > cutoff]
        if len(bucket.failures) + bucket.in_flight >= self._max:
            raise TooManyFailures(f"too many failed logins for {user!r} from this client; try again later")
        bucket.in_flight += 1

    def end(self, client: str, user: str, generation: str = "", *, failed: bool) -> None:
        bucket = self._buckets[(client, user, generation)]
        bucket.in_flight -= 1
        if failed:
            bucket.failures.append(self._clock())
        elif not bucket.failures and not bucket.in_flight:
            del self._buckets[(client, user, generation)]

    def _forget_idle(self, cutoff: float) -> None:
        for key, bucket in list(self._buckets.items()):
            if not bucket.in_flight and all(t <= cutoff for t in bucket.failures):
                del self._buckets[key]
