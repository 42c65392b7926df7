"""Audio as evidence: make a tone for sipp to send, and find a tone's frequency in a recording."""

import io
import subprocess
import uuid
import wave
from pathlib import Path

import httpx
import numpy as np

from tests.support.waiting import until


def make_tone(path: Path, frequency: int, seconds: int = 30) -> Path:
    """A G.711 µ-law tone (raw, 8 kHz mono), the payload sipp's rtp_stream sends."""
    if not path.exists():
        subprocess.run(
            ["sox", "-n", "-r", "8000", "-c", "1", "-e", "mu-law", "-t", "raw", str(path),
             "synth", str(seconds), "sine", str(frequency)],
            check=True,
        )  # fmt: skip
    return path


def band_energy(wav_bytes: bytes, frequency: float, width: float = 50.0) -> float:
    """Share of the recording's energy within ``frequency`` ± ``width`` Hz (0..1)."""
    with wave.open(io.BytesIO(wav_bytes)) as wav:
        rate = wav.getframerate()
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16).astype(np.float64)
    if samples.size == 0:
        return 0.0
    spectrum = np.abs(np.fft.rfft(samples - samples.mean())) ** 2
    freqs = np.fft.rfftfreq(samples.size, 1 / rate)
    total = spectrum.sum()
    if total == 0:
        return 0.0
    return float(spectrum[np.abs(freqs - frequency) <= width].sum() / total)


def peak_frequency(wav_bytes: bytes) -> float:
    with wave.open(io.BytesIO(wav_bytes)) as wav:
        rate = wav.getframerate()
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16).astype(np.float64)
    spectrum = np.abs(np.fft.rfft(samples - samples.mean()))
    return float(np.fft.rfftfreq(samples.size, 1 / rate)[int(spectrum.argmax())])


async def record_what_is_heard(gw: httpx.AsyncClient, channel_id: str, app: str) -> bytes:
    """Snoop on what ``channel_id`` hears (spy=out), record 3 s of it, fetch the WAV."""
    snoop = await gw.post(f"/channels/{channel_id}/snoop", params={"spy": "out", "app": app})
    assert snoop.status_code == 200, snoop.text
    return await record(gw, f"/channels/{snoop.json()['id']}")


async def record(gw: httpx.AsyncClient, target: str, seconds: int = 3) -> bytes:
    """Record ``target`` (``/channels/<id>`` or ``/bridges/<id>``) for ``seconds``; the WAV."""
    name = f"rec-{uuid.uuid4().hex[:8]}"
    recording = await gw.post(
        f"{target}/record",
        params={"name": name, "format": "wav", "maxDurationSeconds": str(seconds), "ifExists": "overwrite"},
    )
    assert recording.status_code == 201, recording.text

    async def finished() -> bool:
        # While it records, the file is already listed as stored, with its header unwritten.
        live = await gw.get(f"/recordings/live/{name}")
        return live.status_code == 404 or live.json().get("state") in ("done", "failed", "canceled")

    await until(finished, timeout=15, message=f"recording {name} finished")
    wav = await gw.get(f"/recordings/stored/{name}/file")
    assert wav.status_code == 200
    await gw.delete(f"/recordings/stored/{name}")
    return wav.content
