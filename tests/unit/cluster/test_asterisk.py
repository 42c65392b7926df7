from pathlib import Path

from ariscale_cluster.asterisk import render_configs
from ariscale_cluster.spec import ClusterSpec
from ariscale_common.dialplan import LINK_APP


def configs(node_index: int = 0) -> dict[str, str]:
    spec = ClusterSpec(state_dir=Path("/tmp/x"), port_base=20000, node_count=2)
    return render_configs(spec, spec.nodes[node_index])


def test_node_identity_is_unique_per_node() -> None:
    first, second = configs(0)["asterisk.conf"], configs(1)["asterisk.conf"]
    assert "systemname = n1" in first and "systemname = n2" in second
    entity = [line for line in first.splitlines() if line.startswith("entityid")]
    assert entity and entity != [line for line in second.splitlines() if line.startswith("entityid")]


def test_ports_follow_the_spec() -> None:
    conf = configs(1)
    assert "bindport = 20020" in conf["http.conf"]
    assert "bind = 127.0.0.1:20021" in conf["pjsip.conf"]
    assert "rtpstart = 20400" in conf["rtp.conf"]


def test_every_endpoint_refuses_direct_media() -> None:
    pjsip = configs()["pjsip.conf"]
    endpoints = pjsip.count("type = endpoint")
    assert endpoints >= 1 and pjsip.count("direct_media = no") == endpoints


def test_dialplan_routes_numbers_by_global_and_link_legs_to_the_link_app() -> None:
    dialplan = configs()["extensions.conf"]
    assert "Stasis(${APP_${EXTEN}})" in dialplan
    assert "Hangup(1)" in dialplan
    # N, X and Z are wildcards in patterns: "link" must be spelled with brackets.
    assert f"exten => _[l][i][n][k]-.,1,Stasis({LINK_APP}," in dialplan


def test_modules_are_loaded_explicitly() -> None:
    modules = configs()["modules.conf"]
    assert "autoload = no" in modules
    for needed in ("chan_pjsip.so", "res_pjsip_pubsub.so", "res_ari_channels.so", "app_stasis.so"):
        assert f"load => {needed}" in modules
