"""Exponential backoff for the background loops that talk to Consul and Kamailio."""

import random


class Backoff:
    """``next()`` gives the delay before the next retry: initial, doubling, capped, with jitter."""

    def __init__(self, initial: float = 0.5, maximum: float = 30.0) -> None:
        self.initial = initial
        self.maximum = maximum
        self._current = initial

    def next(self) -> float:
        delay = self._current
        self._current = min(self._current * 2, self.maximum)
        return delay * random.uniform(0.8, 1.2)

    def reset(self) -> None:
        self._current = self.initial
