from typing import Any, cast

from ariscale_common.bus import OWNERSHIP_EVENT_TYPES
from gateway.events.tracking import StasisTracker


def test_the_ownership_queues_receive_exactly_the_event_types_the_tracker_handles() -> None:
    tracker = StasisTracker(cast(Any, None), cast(Any, None))
    assert set(tracker.handlers) == OWNERSHIP_EVENT_TYPES
