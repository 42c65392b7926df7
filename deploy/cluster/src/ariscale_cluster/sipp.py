"""sipp scenarios for callers: ``deploy/sipp/*.xml``, the caller's one filled in per use."""

import hashlib
import tempfile
from pathlib import Path

SCENARIOS = Path(__file__).parents[3] / "sipp"


def uac_scenario(hold_ms: int, tone: Path | None = None, caller: str = "sipp") -> Path:
    """``uac.xml`` for a caller that stays ``hold_ms`` (sending ``tone``, a raw µ-law file, as RTP).

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
    digest = hashlib.sha1(text.encode()).hexdigest()[:12]
    path = Path(tempfile.gettempdir()) / f"ariscale-uac-{digest}.xml"
    if not path.exists():
        path.write_text(text)
    return path
