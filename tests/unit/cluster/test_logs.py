import io
import json
import threading
import time
from pathlib import Path

from ariscale_cluster import logs


def json_line(ts: str, msg: str, **fields: str) -> str:
    return json.dumps({"ts": ts, "level": "INFO", "service": "x", "logger": "x", "msg": msg, **fields})


def test_one_call_across_components_in_time_order(tmp_path: Path) -> None:
    gateway = tmp_path / "gateway.log"
    agent = tmp_path / "agent-n1.log"
    asterisk = tmp_path / "messages.log"
    gateway.write_text(
        json_line("2026-11-29T08:00:02.000Z", "POST /ari/channels/n1-17.3/answer 204", channel="n1-17.3")
        + "\n"
        + json_line("2026-11-29T08:00:03.000Z", "POST /ari/channels/n1-17.31/answer 204", channel="n1-17.31")
        + "\n"
    )
    agent.write_text(
        json_line(
            "2026-11-29T08:00:01.000Z", "n1-17.3 entered Stasis (PJSIP/cluster-00000007, caller 100)",
            channel="n1-17.3", app="conf",
        )
        + "\n"
    )  # fmt: skip
    asterisk.write_text(
        "[2026-11-29 08:00:00.500] VERBOSE[12][C-00000002] pbx.c: Executing [8000@from-edge:1] "
        'GotoIf("PJSIP/cluster-00000007", "0?unknown") in new stack\n'
        "[2026-11-29 08:00:00.600] VERBOSE[13] pbx.c: Executing on PJSIP/cluster-00000070 something\n"
    )
    sources = [("gateway", gateway), ("agent-n1", agent), ("asterisk-n1", asterisk)]

    lines = logs.call_lines(sources, "n1-17.3")

    assert [ln.component for ln in lines] == ["asterisk-n1", "agent-n1", "gateway"]
    rendered = logs.render(lines[1])
    assert "entered Stasis" in rendered and "app=conf" in rendered and "channel=n1-17.3" in rendered


def wait_for_output(out: io.StringIO, text: str, timeout: float = 30) -> None:
    """Poll until ``text`` was printed (generous: the follower polls, and the machine may be busy)."""
    deadline = time.monotonic() + timeout
    while text not in out.getvalue() and time.monotonic() < deadline:
        time.sleep(0.05)


def test_follow_prints_new_lines_of_every_component(tmp_path: Path) -> None:
    a, b = tmp_path / "a.log", tmp_path / "b.log"
    a.write_text("old a\n")
    b.write_text("")
    out = io.StringIO()
    sources = [("a", a), ("b", b)]
    follower = threading.Thread(target=logs.follow, args=(sources, out), daemon=True)
    follower.start()
    wait_for_output(out, "old a")
    with b.open("a") as handle:
        handle.write(json_line("2026-11-29T08:00:00.000Z", "new in b", request_id="r1") + "\n")
    wait_for_output(out, "new in b")
    text = out.getvalue()
    assert "a | old a" in text
    assert "new in b" in text and "request_id=r1" in text
