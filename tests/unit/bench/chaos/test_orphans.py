"""What a run left behind, compared with the cluster at rest before it."""

from bench.chaos.orphans import Holdings, key_kind, left_behind, parse_queues

P = "ariscale-chaos-x:"


def test_key_kind() -> None:
    assert key_kind(f"{P}own:channel:n1-1.2", P) == "own"
    assert key_kind(f"{P}call-apps", P) == "call-apps"


def test_new_channels_bridges_and_call_keys_that_do_not_expire_soon_are_orphans() -> None:
    before = Holdings(
        channels={"n1": [], "n2": []}, bridges={"n1": ["app-conf"]},
        keys={f"{P}events:app": -1, f"{P}own:bridge:app-conf": -1}, queues={"ariscale.app.app": (0, 1)},
    )  # fmt: skip
    after = Holdings(
        channels={"n1": ["n1-5.1"], "n2": []},
        bridges={"n1": ["app-conf", "n1-link-7"]},
        keys={
            f"{P}events:app": -1, f"{P}own:bridge:app-conf": -1,
            f"{P}own:channel:n1-5.1": -1,  # never expires: an orphan
            f"{P}assign:app:channel:n1-5.2": 60,  # lingers a minute after the call: on its way out
            f"{P}assign:app:channel:n1-5.3": 86_000,  # the call's end never came: an orphan for a day
            f"{P}gone:channel:n1-5.4": -1,  # not a call key
        },
        queues={"ariscale.app.app": (0, 1), "ariscale.gateway.dead": (4, 0), "ariscale.gateway.new": (0, 1)},
    )  # fmt: skip
    left = left_behind(before, after, P)
    assert left["channels"] == {"n1": ["n1-5.1"]}
    assert left["bridges"] == {"n1": ["n1-link-7"]}
    assert left["redis_keys"] == [f"{P}assign:app:channel:n1-5.3", f"{P}own:channel:n1-5.1"]
    # The replacement gateway's own queue (consumed, empty) is live; the dead one's is not.
    assert left["queues"] == {"ariscale.gateway.dead": {"messages": 4, "consumers": 0}}
    assert left["count"] == 5


def test_nothing_new_is_nothing_left() -> None:
    held = Holdings({"n1": ["x"]}, {"n1": []}, {f"{P}turn:app": -1}, {"q": (0, 1)})
    assert left_behind(held, held, P)["count"] == 0


def test_a_queue_that_was_there_but_now_holds_messages_counts() -> None:
    before = Holdings(queues={"q": (0, 1)})
    assert left_behind(before, Holdings(queues={"q": (3, 1)}), P)["queues"] == {
        "q": {"messages": 3, "consumers": 1}
    }


def test_rabbitmqctl_lines_are_parsed() -> None:
    assert parse_queues("ariscale.app.x\t0\t1\nnoise\nariscale.gateway.g\t2\t0\n") == {
        "ariscale.app.x": (0, 1), "ariscale.gateway.g": (2, 0),
    }  # fmt: skip
