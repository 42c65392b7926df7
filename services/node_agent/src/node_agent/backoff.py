"""Exponential backoff for every reconnect loop of the agent."""


class Backoff:
    """Delays ``minimum``, twice that, four times … capped at ``maximum``; :meth:`reset` after a success."""

    def __init__(self, minimum: float, maximum: float) -> None:
        self.minimum = minimum
        self.maximum = max(minimum, maximum)
        self._next = minimum

    def next(self) -> float:
        delay = self._next
        self._next = min(self._next * 2, self.maximum)
        return delay

    def reset(self) -> None:
        self._next = self.minimum
