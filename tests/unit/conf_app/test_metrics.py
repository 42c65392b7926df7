from prometheus_client.metrics_core import Metric

from conf_app.metrics import conference_metrics


def samples(families: list[Metric]) -> dict[tuple[str, str], float]:
    out: dict[tuple[str, str], float] = {}
    for family in families:
        for s in family.samples:
            out[(s.name, s.labels.get("node", ""))] = s.value
    return out


def test_participants_and_conferences_per_node() -> None:
    bridges: list[dict[str, object]] = [
        {"id": "conf", "channels": ["n1-1.1", "n2-1.1", "n2-1.2"]},
        {"id": "other", "channels": ["n2-7.1"]},
        {"id": "empty", "channels": []},
    ]
    got = samples(list(conference_metrics(bridges)))
    assert got[("ariscale_conf_participants", "n1")] == 1
    assert got[("ariscale_conf_participants", "n2")] == 3
    assert got[("ariscale_conf_conferences", "n1")] == 1
    assert got[("ariscale_conf_conferences", "n2")] == 2
    assert got[("ariscale_conf_conferences_total", "")] == 3
