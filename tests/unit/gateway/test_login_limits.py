"""Login failures: refused after the limit per (client, app), for the window only."""

import pytest

from gateway.login_limits import LoginLimiter, TooManyFailures


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def fail(limiter: LoginLimiter, client: str, user: str) -> None:
    limiter.begin(client, user)
    limiter.end(client, user, failed=True)


def test_failures_beyond_the_limit_are_refused_for_the_window() -> None:
    clock = Clock()
    limiter = LoginLimiter(max_failures=3, window=60, clock=clock)
    for _ in range(3):
        fail(limiter, "10.0.0.1", "a")
    with pytest.raises(TooManyFailures):
        limiter.begin("10.0.0.1", "a")
    limiter.begin("10.0.0.1", "b")  # another app from the same client is not slowed
    limiter.begin("10.0.0.2", "a")  # nor the same app from another client
    clock.now = 61
    limiter.begin("10.0.0.1", "a")


def test_attempts_in_flight_count_against_the_limit() -> None:
    limiter = LoginLimiter(max_failures=2, window=60, clock=Clock())
    limiter.begin("c", "a")
    limiter.begin("c", "a")
    with pytest.raises(TooManyFailures):
        limiter.begin("c", "a")
    limiter.end("c", "a", failed=False)
    limiter.begin("c", "a")


def test_a_success_keeps_no_state() -> None:
    limiter = LoginLimiter(max_failures=1, window=60, clock=Clock())
    limiter.begin("c", "a")
    limiter.end("c", "a", failed=False)
    limiter.begin("c", "a")


def test_failures_before_an_app_existed_do_not_lock_its_credentials_out() -> None:
    limiter = LoginLimiter(max_failures=1, window=60, clock=Clock())
    fail(limiter, "c", "new")  # the app is not known yet: the "unknown" generation
    with pytest.raises(TooManyFailures):
        limiter.begin("c", "new")
    limiter.begin("c", "new", "hash-1")
