"""sipp scenarios for callers: ``deploy/sipp/*.xml``, the caller's one filled in per use."""

import hashlib
import tempfile
from pathlib import Path

SCENARIOS = Path(__file__).parents[3] / "sipp"

# With ``steps``, each call writes one line per step to sipp's ``-trace_logs`` file:
# ``<step>;<Call-ID>;<date>\t<time>\t<epoch s>`` (``up`` adds ``;Contact: <the node's URI>``).
# start: INVITE sent; up: 200 received; hung_up: the other side sent BYE; end: our BYE answered.
CALL_STEPS = ("start", "up", "hung_up", "end")


def _step_line(step: str) -> str:
    contact = ";[last_Contact:]" if step == "up" else ""
    return f'  <nop><action><log message="{step};[call_id];[timestamp]{contact}"/></action></nop>'


def uac_scenario(hold_ms: int, tone: Path | None = None, caller: str = "sipp", steps: bool = False) -> Path:
    """``uac.xml`` for a caller that stays ``hold_ms`` (sending ``tone``, a raw µ-law file, as RTP);
    ``steps``: log each step of each call (see ``CALL_STEPS``).

    sipp substitutes nothing inside ``exec`` or a ``recv`` timeout, hence a file per variant.
    """
    media = f'  <nop><action><exec rtp_stream="{tone},-1,0"/></action></nop>' if tone else ""
    text = (
        (SCENARIOS / "uac.xml")
        .read_text()
        .replace("{{HOLD_MS}}", str(hold_ms))
        .replace("{{CALLER}}", caller)
        .replace("{{MEDIA}}", media)
    )
    for step in CALL_STEPS:
        text = text.replace(f"{{{{LOG_{step.upper()}}}}}", _step_line(step) if steps else "")
    digest = hashlib.sha1(text.encode()).hexdigest()[:12]
    path = Path(tempfile.gettempdir()) / f"ariscale-uac-{digest}.xml"
    if not path.exists():
        path.write_text(text)
    return path
