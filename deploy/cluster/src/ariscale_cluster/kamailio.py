"""The SIP edge: Kamailio 5.6 with ``dispatcher`` spreading new calls over the nodes."""

import subprocess
from pathlib import Path

from ariscale_cluster.images import image_tag
from ariscale_cluster.processes import Command
from ariscale_cluster.spec import ClusterSpec, NodeSpec
from ariscale_common.sip_edge import DISPATCH_SET, DispatchTarget
from ariscale_common.sip_edge import render_dispatcher_list as render_targets

MODULE_DIR = "/usr/lib/x86_64-linux-gnu/kamailio/modules/"


def edge_dir(spec: ClusterSpec) -> Path:
    return spec.state_dir / "kamailio"


def ctl_socket(spec: ClusterSpec) -> Path:
    return edge_dir(spec) / "kamailio_ctl"


def dispatcher_list(spec: ClusterSpec) -> Path:
    return edge_dir(spec) / "dispatcher.list"


def render_dispatcher_list(nodes: list[NodeSpec]) -> str:
    # The registry rewrites this file with the same line format (ariscale_common.sip_edge).
    return render_targets(DispatchTarget(n.node_id, n.sip_address) for n in nodes)


def render_config(spec: ClusterSpec) -> str:
    modules = "tm sl rr pv maxfwd textops siputils xlog ctl dispatcher kex corex"
    loads = "".join(f'loadmodule "{m}.so"\n' for m in modules.split())
    return f"""#!KAMAILIO
debug=2
log_stderror=yes
children=2
listen=udp:127.0.0.1:{spec.sip_edge_port}
mpath="{MODULE_DIR}"
{loads}
modparam("ctl", "binrpc", "unix:{ctl_socket(spec)}")
modparam("dispatcher", "list_file", "{dispatcher_list(spec)}")
modparam("dispatcher", "flags", 2)
# The registry reloads the set whenever node health changes; the default allows one reload per 5 s.
modparam("dispatcher", "reload_delta", 0)
# A dead node must not hold a new call for the default 30 s before failover.
modparam("tm", "fr_timer", 2000)
modparam("tm", "fr_inv_timer", 30000)

request_route {{
    if (!mf_process_maxfwd_header("10")) {{
        sl_send_reply("483", "Too Many Hops");
        exit;
    }}
    if (has_totag()) {{
        if (loose_route()) {{
            t_relay();
            exit;
        }}
        if (is_method("ACK")) {{
            if (t_check_trans()) t_relay();
            exit;
        }}
        sl_send_reply("404", "Not here");
        exit;
    }}
    if (is_method("CANCEL")) {{
        if (t_check_trans()) t_relay();
        exit;
    }}
    if (is_method("INVITE")) record_route();
    # Round-robin over the set; the registry keeps the set equal to the healthy, undrained nodes.
    if (!ds_select_dst("{DISPATCH_SET}", "4")) {{
        sl_send_reply("503", "No Asterisk node available");
        exit;
    }}
    xlog("L_INFO", "$rm $ru ($ci) -> $du\\n");
    t_on_failure("NEXT_NODE");
    t_relay();
}}

failure_route[NEXT_NODE] {{
    if (t_is_canceled()) exit;
    if (t_check_status("408|5[0-9][0-9]") && ds_next_dst()) {{
        xlog("L_WARN", "$ci: node failed, retrying on $du\\n");
        t_on_failure("NEXT_NODE");
        t_relay();
    }}
}}
"""


def config_path(spec: ClusterSpec) -> Path:
    return edge_dir(spec) / "kamailio.cfg"


def prepare(spec: ClusterSpec) -> Path:
    """Write the config and the initial dispatch list (every node); return the config path."""
    edge_dir(spec).mkdir(parents=True, exist_ok=True)
    cfg = config_path(spec)
    cfg.write_text(render_config(spec))
    if not dispatcher_list(spec).exists():
        dispatcher_list(spec).write_text(render_dispatcher_list(spec.nodes))
    return cfg


def kamailio_command(spec: ClusterSpec) -> Command:
    # Its directory (config, dispatch list, ctl socket) is shared with the registry and kamcmd.
    edge = edge_dir(spec)
    return Command(kamailio_argv(spec, config_path(spec)), image_tag("kamailio"), mounts={edge: str(edge)})


def kamailio_argv(spec: ClusterSpec, cfg: Path) -> list[str]:
    # -DD: the main process stays in the foreground (its pid is the one we record), children fork.
    return ["kamailio", "-f", str(cfg), "-DD", "-E", "-Y", str(edge_dir(spec)), "-w", str(edge_dir(spec))]


def kamcmd(spec: ClusterSpec, *command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["kamcmd", "-s", f"unix:{ctl_socket(spec)}", *command],
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
