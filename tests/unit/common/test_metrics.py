"""Metric families built from plain values."""

from ariscale_common.metrics import node_gauge


def test_node_gauge_has_one_sample_per_node_labelled_node() -> None:
    family = node_gauge("ariscale_x", "X per node.", {"n1": 2, "n2": 0})
    assert family.type == "gauge"
    assert [(s.name, s.labels, s.value) for s in family.samples] == [
        ("ariscale_x", {"node": "n1"}, 2),
        ("ariscale_x", {"node": "n2"}, 0),
    ]
