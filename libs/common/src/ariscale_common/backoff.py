"""Exponential backoff for every reconnect and retry loop: initial, doubling, capped, with jitter."""

import random


class Backoff:
    """``next()`` gives the delay before the next retry; ``reset()`` after a success.

    ``jitter`` spreads the delays by ± that fraction so that many clients do not retry in step.
    """

    def __init__(self, initial: float = 0.5, maximum: float = 30.0, jitter: float = 0.0) -> None:
        self.initial = initial
        self.maximum = max(initial, maximum)
        self.jitter = jitter
        self._next = initial

    def next(self) -> float:
        delay = self._next
        self._next = min(self._next * 2, self.maximum)
        return delay * random.uniform(1 - self.jitter, 1 + self.jitter) if self.jitter else delay

    def reset(self) -> None:
        self._next = self.initial
