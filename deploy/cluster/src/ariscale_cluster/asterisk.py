"""One Asterisk 22 node: its configuration files, inside the shared sid chroot, and its process."""

import shutil
import subprocess
from pathlib import Path

from ariscale_cluster.images import image_tag
from ariscale_cluster.processes import Command
from ariscale_cluster.spec import ClusterSpec, NodeSpec
from ariscale_common.dialplan import (
    CLUSTER_ENDPOINT,
    INBOUND_CONTEXT,
    LINK_APP,
    LINK_EXTEN_PREFIX,
    ROUTED_VARIABLE,
)

# Loaded explicitly (autoload=no): a node starts in about a second and loads nothing surprising.
HTTP_SESSION_LIMIT = 2000

MODULES = """
res_sorcery_config res_sorcery_memory res_sorcery_astdb res_timing_timerfd
res_pjproject res_pjsip res_pjsip_session res_pjsip_sdp_rtp res_pjsip_endpoint_identifier_ip
res_pjsip_caller_id res_pjsip_dtmf_info res_pjsip_nat res_pjsip_rfc3326 res_pjsip_header_funcs
res_pjsip_logger res_pjsip_dlg_options res_pjsip_pubsub res_pjsip_authenticator_digest
res_pjsip_outbound_authenticator_digest chan_pjsip res_rtp_asterisk res_rtp_multicast chan_rtp
chan_bridge_media res_http_websocket res_websocket_client res_ari res_ari_model
res_ari_applications res_ari_asterisk res_ari_bridges
res_ari_channels res_ari_device_states res_ari_endpoints res_ari_events res_ari_playbacks
res_ari_recordings res_ari_sounds res_stasis res_stasis_answer res_stasis_playback
res_stasis_recording res_stasis_snoop res_stasis_device_state app_stasis
bridge_simple bridge_softmix bridge_holding bridge_builtin_features
codec_ulaw codec_alaw codec_a_mu codec_gsm codec_resample
format_wav format_gsm format_pcm format_sln format_wav_gsm
pbx_config func_global func_channel func_callerid func_strings func_logic func_hangupcause
app_playback app_echo res_musiconhold res_clioriginate res_prometheus
""".split()


def render_configs(spec: ClusterSpec, node: NodeSpec) -> dict[str, str]:
    """Every file of the node's ``astetcdir``, by name."""
    chroot_dir = f"{spec.chroot_cluster_dir}/{node.node_id}"
    entity = spec.key[:4]
    return {
        "asterisk.conf": f"""\
[directories]
astetcdir => {chroot_dir}/etc
astmoddir => /usr/lib/x86_64-linux-gnu/asterisk/modules
astvarlibdir => /var/lib/asterisk
astdbdir => {chroot_dir}/db
astkeydir => /var/lib/asterisk
astdatadir => /usr/share/asterisk
astagidir => /usr/share/asterisk/agi-bin
astspooldir => {chroot_dir}/spool
astrundir => {chroot_dir}/run
astlogdir => {chroot_dir}/log
astcachedir => {chroot_dir}/cache
astsbindir => /usr/sbin

[options]
; systemname prefixes every unique id (n1-1795680783.0), so ids never collide across nodes.
systemname = {node.node_id}
; Nodes on one machine share a MAC and would all report the same entity id.
entityid = 02:{entity[:2]}:{entity[2:4]}:00:00:{node.index:02x}
verbose = 1
""",
        "modules.conf": "[modules]\nautoload = no\n" + "".join(f"load => {m}.so\n" for m in MODULES),
        "logger.conf": "[general]\ndateformat = %F %T.%3q\n[logfiles]\n"
        "messages.log => notice,warning,error,verbose(1)\n",
        # sessionlimit: every app holds one ARI websocket on every node (its agent's), besides the
        # gateways' request connections; Asterisk's default of 100 sessions would refuse the rest.
        "http.conf": f"[general]\nenabled = yes\nbindaddr = 127.0.0.1\nbindport = {node.ari_port}\n"
        f"sessionlimit = {HTTP_SESSION_LIMIT}\n",
        "ari.conf": f"""\
[general]
enabled = yes
[{spec.ari_user}]
type = user
read_only = no
password = {spec.ari_password}
""",
        # res_prometheus answers on the node's own HTTP server (the ARI port), behind the ARI login.
        "prometheus.conf": f"""\
[general]
enabled = yes
core_metrics_enabled = yes
uri = metrics
auth_username = {spec.ari_user}
auth_password = {spec.ari_password}
""",
        "rtp.conf": f"[general]\nrtpstart = {node.rtp_start}\nrtpend = {node.rtp_end}\n",
        "pjsip.conf": f"""\
[transport-udp]
type = transport
protocol = udp
bind = {node.sip_address}

; One endpoint for everything on the cluster network: the SIP edge and the other nodes.
; direct_media=no: with two PJSIP legs in one bridge Asterisk would otherwise re-INVITE callers.
[{CLUSTER_ENDPOINT}]
type = endpoint
transport = transport-udp
context = {INBOUND_CONTEXT}
disallow = all
allow = ulaw,alaw
direct_media = no
rtp_symmetric = yes
dtmf_mode = rfc4733

[{CLUSTER_ENDPOINT}-identify]
type = identify
endpoint = {CLUSTER_ENDPOINT}
match = 127.0.0.1
""",
        "extensions.conf": f"""\
[general]
static = yes
writeprotect = yes

[{INBOUND_CONTEXT}]
; A leg from another node carrying bridge <id>. Patterns treat N, X, Z as wildcards in any case.
exten => _[l][i][n][k]-.,1,Stasis({LINK_APP},${{EXTEN:{len(LINK_EXTEN_PREFIX)}}})
 same => n,GotoIf($["${{STASISSTATUS}}" = "FAILED"]?refuse)
 same => n,Hangup()
 same => n(refuse),Hangup(34)

; A dialed number: its app comes from the global APP_<number> the node agent sets (no reload).
; Unknown numbers are refused at once with cause 1, which PJSIP answers as 404 Not Found.
; A known number whose app this node cannot reach now (its agent is down, so Stasis fails) is
; refused with cause 34, which PJSIP answers as 503: the SIP edge then tries another node.
; So is every number until the agent has routed this Asterisk ({ROUTED_VARIABLE}): just after a
; restart the globals are gone, and a 404 then would turn away calls another node can take.
exten => _[0-9*#+]!,1,GotoIf($["${{{ROUTED_VARIABLE}}}" = ""]?refuse)
 same => n,GotoIf($["${{APP_${{EXTEN}}}}" = ""]?unknown)
 same => n,Stasis(${{APP_${{EXTEN}}}})
 same => n,GotoIf($["${{STASISSTATUS}}" = "FAILED"]?refuse)
 same => n,Hangup()
 same => n(unknown),Hangup(1)
 same => n(refuse),Hangup(34)
""",
        "musiconhold.conf": "[default]\nmode = files\ndirectory = /usr/share/asterisk/moh\n",
        "cdr.conf": "[general]\nenable = no\n",
        "cel.conf": "[general]\nenable = no\n",
        # Present but empty: the core warns about each one it cannot find.
        **{
            name: ""
            for name in (
                "features.conf",
                "acl.conf",
                "udptl.conf",
                "pjproject.conf",
                "ccss.conf",
                "manager.conf",
                "websocket_client.conf",
            )
        },
    }


def prepare_node(spec: ClusterSpec, node: NodeSpec) -> Path:
    """Write the node's configuration and directories; return its asterisk.conf (host path)."""
    base = spec.node_dir(node)
    # ARI recordings fail with "No such file or directory" unless spool/recording exists.
    for sub in ("etc", "db", "spool/recording", "run", "log", "cache"):
        (base / sub).mkdir(parents=True, exist_ok=True)
    for name, text in render_configs(spec, node).items():
        (base / "etc" / name).write_text(text)
    stock_indications = spec.rootfs / "etc/asterisk/indications.conf"
    if stock_indications.exists():
        shutil.copy(stock_indications, base / "etc/indications.conf")
    return base / "etc/asterisk.conf"


def asterisk_command(spec: ClusterSpec, node: NodeSpec) -> Command:
    """The node's Asterisk: natively in the sid chroot; in its image (made from that rootfs) with
    the node's directory mounted where the chroot has it, so both read the same rendered files."""
    inside = f"{spec.chroot_cluster_dir}/{node.node_id}"
    # -f: stay in the foreground so the recorded pid is Asterisk itself.
    argv = ["/usr/sbin/asterisk", "-f", "-n", "-C", f"{inside}/etc/asterisk.conf"]
    return Command(
        argv,
        image_tag("asterisk"),
        mounts={spec.node_dir(node): inside},
        native_argv=["chroot", str(spec.rootfs), *argv],
    )


def asterisk_argv(spec: ClusterSpec, node: NodeSpec) -> list[str]:
    return asterisk_command(spec, node).host_argv


def cli(spec: ClusterSpec, node: NodeSpec, command: str) -> str:
    """Run one Asterisk CLI command on the node (through its control socket)."""
    conf = f"{spec.chroot_cluster_dir}/{node.node_id}/etc/asterisk.conf"
    result = subprocess.run(
        ["chroot", str(spec.rootfs), "/usr/sbin/asterisk", "-C", conf, "-rx", command],
        capture_output=True,
        text=True,
        timeout=15,
        check=False,
    )
    return result.stdout


def log_file(spec: ClusterSpec, node: NodeSpec) -> Path:
    return spec.node_dir(node) / "log/messages.log"
