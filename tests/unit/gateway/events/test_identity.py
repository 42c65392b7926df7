from gateway.events.identity import ClusterIdentity

CLUSTER = ClusterIdentity("02:a5:c1:00:00:00", "ariscale")


def test_events_carry_the_clusters_id() -> None:
    assert CLUSTER.event({"type": "StasisStart", "asterisk_id": "02:00:00:00:00:02"})["asterisk_id"] == (
        "02:a5:c1:00:00:00"
    )


def test_events_without_an_id_are_left_alone() -> None:
    event = {"type": "StasisStart"}
    assert CLUSTER.event(event) is event


def test_info_names_the_cluster() -> None:
    info = {
        "system": {"version": "22", "entity_id": "02:00:00:00:00:01"},
        "config": {"name": "n1"},
        "build": {},
    }
    seen = CLUSTER.answer("getInfo", info)
    assert seen["system"] == {"version": "22", "entity_id": "02:a5:c1:00:00:00"}
    assert seen["config"] == {"name": "ariscale"}


def test_ping_answers_with_the_clusters_id() -> None:
    assert CLUSTER.answer("ping", {"ping": "pong", "asterisk_id": "x"})["asterisk_id"] == "02:a5:c1:00:00:00"


def test_other_reads_are_untouched() -> None:
    body = [{"module": "res_ari.so"}]
    assert CLUSTER.answer("listModules", body) is body
