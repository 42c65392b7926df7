from pathlib import Path

from ariscale_cluster import prometheus
from ariscale_cluster.spec import ClusterSpec


def targets(config: dict[str, object], job: str) -> list[tuple[str, dict[str, str]]]:
    jobs = config["scrape_configs"]
    assert isinstance(jobs, list)
    found = next(j for j in jobs if j["job_name"] == job)
    return [(t, sc.get("labels", {})) for sc in found["static_configs"] for t in sc["targets"]]


def test_every_service_agent_and_asterisk_is_scraped() -> None:
    spec = ClusterSpec(state_dir=Path("/tmp/x"), port_base=20000, node_count=3)
    config = prometheus.scrape_config(spec)
    assert targets(config, "registry") == [("127.0.0.1:20000", {})]
    assert targets(config, "gateway") == [("127.0.0.1:20001", {})]
    assert targets(config, "conf_app") == [("127.0.0.1:20002", {})]
    assert targets(config, "node_agent") == [
        ("127.0.0.1:20012", {"node": "n1"}), ("127.0.0.1:20022", {"node": "n2"}),
        ("127.0.0.1:20032", {"node": "n3"}),
    ]  # fmt: skip
    # res_prometheus answers on the node's own HTTP server, the ARI port, behind the ARI login
    assert [t for t, _ in targets(config, "asterisk")] == [
        "127.0.0.1:20010",
        "127.0.0.1:20020",
        "127.0.0.1:20030",
    ]


def test_prometheus_listens_on_its_own_port(tmp_path: Path) -> None:
    spec = ClusterSpec(state_dir=tmp_path, port_base=23000)
    argv = prometheus.prometheus_argv(spec, prometheus.prepare(spec))
    assert "--web.listen-address=127.0.0.1:23099" in argv
    assert prometheus.config_path(spec).stat().st_mode & 0o077 == 0  # it holds the ARI password
