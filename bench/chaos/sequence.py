"""Events lost or duplicated, from the ``ariscale_seq`` numbers an app received, and calls whose
events are incomplete (a ``StasisStart`` with no ``StasisEnd``)."""

from dataclasses import dataclass, field
from typing import Any


@dataclass
class SeqTally:
    """Every number seen once; repeats counted; a number far below the highest restarts a run."""

    seen: set[int] = field(default_factory=set)
    duplicates: int = 0
    restarts: int = 0  # the sequence began again from 1 (Redis lost the app's counter)
    _offset: int = 0  # numbers of earlier runs, so a restarted sequence does not read as repeats
    _high: int = 0

    def observe(self, seq: int) -> None:
        if seq == 1 and self._high > 1:
            self.restarts += 1
            self._offset += self._high
            self._high = 0
        number = self._offset + seq
        if number in self.seen:
            self.duplicates += 1
            return
        self.seen.add(number)
        self._high = max(self._high, seq)

    @property
    def lost(self) -> int:
        """Numbers never received between the lowest and the highest seen."""
        if not self.seen:
            return 0
        return max(self.seen) - min(self.seen) + 1 - len(self.seen)

    def snapshot(self) -> dict[str, int]:
        return {
            "received": len(self.seen),
            "duplicates": self.duplicates,
            "lost": self.lost,
            "restarts": self.restarts,
        }


@dataclass
class CallEvents:
    """Channels that entered the app, and those whose ``StasisEnd`` came."""

    started: set[str] = field(default_factory=set)
    ended: set[str] = field(default_factory=set)

    def observe(self, event: dict[str, Any]) -> None:
        kind, channel = event.get("type"), event.get("channel")
        if not isinstance(channel, dict) or not isinstance(channel.get("id"), str):
            return
        if kind == "StasisStart":
            self.started.add(channel["id"])
        elif kind == "StasisEnd":
            self.ended.add(channel["id"])

    def snapshot(self) -> dict[str, int]:
        return {
            "stasis_start": len(self.started),
            "stasis_end": len(self.ended),
            "start_without_end": len(self.started - self.ended),
            "end_without_start": len(self.ended - self.started),
        }


def delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    """What changed between two snapshots (counts only grow)."""
    return {key: after[key] - before.get(key, 0) for key in after}
