"""Lost and duplicated ``ariscale_seq`` numbers; calls whose end never came."""

from bench.chaos.sequence import CallEvents, SeqTally, delta


def tally(*numbers: int) -> SeqTally:
    seqs = SeqTally()
    for number in numbers:
        seqs.observe(number)
    return seqs


def test_gaps_are_lost_and_repeats_are_duplicates() -> None:
    assert tally(1, 2, 3, 3, 5, 7, 6).snapshot() == {"received": 6, "duplicates": 1, "lost": 1, "restarts": 0}


def test_a_resume_that_replays_what_was_seen_counts_duplicates_only() -> None:
    assert tally(1, 2, 3, 4, 3, 4, 5).snapshot() == {"received": 5, "duplicates": 2, "lost": 0, "restarts": 0}


def test_a_sequence_starting_over_is_a_restart_not_duplicates() -> None:
    assert tally(1, 2, 3, 1, 2, 4).snapshot() == {"received": 6, "duplicates": 0, "lost": 1, "restarts": 1}


def test_nothing_seen_is_nothing_lost() -> None:
    assert SeqTally().lost == 0


def channel_event(kind: str, channel: str) -> dict[str, object]:
    return {"type": kind, "channel": {"id": channel}}


def test_calls_with_a_start_and_no_end_are_counted() -> None:
    calls = CallEvents()
    for event in (
        channel_event("StasisStart", "a"), channel_event("StasisStart", "b"), channel_event("StasisEnd", "a"),
        channel_event("StasisEnd", "z"), channel_event("ChannelStateChange", "b"), {"type": "StasisStart"},
    ):  # fmt: skip
        calls.observe(event)
    assert calls.snapshot() == {
        "stasis_start": 2,
        "stasis_end": 2,
        "start_without_end": 1,
        "end_without_start": 1,
    }


def test_delta_of_two_snapshots() -> None:
    assert delta({"lost": 1, "received": 10}, {"lost": 3, "received": 25}) == {"lost": 2, "received": 15}
