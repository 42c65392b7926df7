"""The cluster's container images: which exist, how each is built (``make images``), their sizes.

Base images come from Debian's archive (``deploy/scripts/provision_containers.sh`` imports
``localhost/ariscale-bookworm`` and ``localhost/ariscale-sid``); every other image is built from a
Dockerfile in ``deploy/docker`` with the repository root as context, so layers cache between runs.
"""

import hashlib
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from ariscale_cluster.spec import CACHE_DIR

REPO = Path(__file__).resolve().parents[4]
DOCKERFILES = REPO / "deploy/docker"
PROVISION = REPO / "deploy/scripts/provision_containers.sh"
# The non-root user every Python service (and Kamailio, Consul) runs as; mounted dirs they write
# are handed to it.
SERVICE_UID = 10001
# Mounted into builds (never copied into a layer) so uv and pip trust what the host trusts.
HOST_CA = Path("/etc/ssl/certs/ca-certificates.crt")
PYTHON_SERVICES = ("registry", "gateway", "conf_app", "node_agent")


@dataclass(frozen=True)
class Image:
    name: str  # the Dockerfile's stem
    context: Path = REPO

    @property
    def tag(self) -> str:
        return image_tag(self.name)

    @property
    def dockerfile(self) -> Path:
        return DOCKERFILES / f"{self.name}.Dockerfile"


def image_tag(name: str) -> str:
    return f"localhost/ariscale-{name}"


# An image records the digest of its inputs in this label: unchanged inputs, no build at all.
INPUTS_LABEL = "ariscale.inputs"

# In build order: each image's base comes before it.
IMAGES = (
    Image("python"),
    *(Image(name) for name in PYTHON_SERVICES),
    Image("kamailio"),
    Image("asterisk"),
    Image("consul", context=CACHE_DIR / "consul-1.8.7"),
)


def uv_version() -> str:
    """The uv that locked the workspace, so the images read uv.lock exactly as the host does."""
    # `uv run` names itself in $UV; otherwise the one the Makefile uses.
    uv = [os.environ["UV"]] if "UV" in os.environ else ["python3", "-m", "uv"]
    out = subprocess.run([*uv, "--version"], capture_output=True, text=True, check=True)
    return out.stdout.split()[1]


def copied_files(image: Image) -> list[Path]:
    """The files the Dockerfile's COPY lines take from the build context."""
    sources = [
        image.context / source
        for line in image.dockerfile.read_text().splitlines()
        if line.startswith("COPY ")
        for source in line.split()[1:-1]
    ]
    found = [p for root in sources for p in ([root] if root.is_file() else sorted(root.rglob("*")))]
    return [p for p in found if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"]


def _image_id(tag: str) -> str:
    out = subprocess.run(
        ["podman", "image", "inspect", "--format", "{{.Id}}", tag], capture_output=True, text=True
    )
    return out.stdout.strip()


def inputs_digest(image: Image, uv: str) -> str:
    """Everything the image is built from: its Dockerfile, its base image, the files it copies
    (a change elsewhere, e.g. in another service, rebuilds nothing)."""
    digest = hashlib.sha256(image.dockerfile.read_bytes() + uv.encode())
    base = next(
        line.split()[1] for line in image.dockerfile.read_text().splitlines() if line.startswith("FROM ")
    )
    digest.update(_image_id(base).encode())
    for path in copied_files(image):
        digest.update(str(path.relative_to(image.context)).encode())
        stat = path.stat()
        # Large files (the Consul binary) by size and time; sources by content (a checkout resets times).
        digest.update(
            f"{stat.st_size}:{stat.st_mtime_ns}".encode() if stat.st_size > 1 << 20 else path.read_bytes()
        )
    return digest.hexdigest()


def built_from(tag: str) -> str:
    out = subprocess.run(
        ["podman", "image", "inspect", "--format", f'{{{{index .Labels "{INPUTS_LABEL}"}}}}', tag],
        capture_output=True, text=True,
    )  # fmt: skip
    return out.stdout.strip() if out.returncode == 0 else ""


def build(image: Image, uv: str) -> None:
    """Build ``image`` unless it was built from exactly these inputs already."""
    digest = inputs_digest(image, uv)
    if built_from(image.tag) == digest:
        return
    argv = [
        "podman", "build", "--network", "host", "--layers", "--quiet", "--label", f"{INPUTS_LABEL}={digest}",
        "--volume", f"{HOST_CA}:/etc/ssl/host-ca.crt:ro",
        "--build-arg", f"ARISCALE_UID={SERVICE_UID}", "--build-arg", f"UV_VERSION={uv}",
        "-f", str(image.dockerfile), "-t", image.tag, str(image.context),
    ]  # fmt: skip
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"building {image.tag} failed:\n{result.stdout}{result.stderr}")


def size(tag: str) -> str:
    out = subprocess.run(
        ["podman", "image", "inspect", "--format", "{{.Size}}", tag], capture_output=True, text=True
    )
    return f"{int(out.stdout.strip()) / 1e6:.0f} MB" if out.returncode == 0 else "missing"


def build_all(report: bool = True) -> None:
    """Provision podman and the base images, then build (or reuse) every image."""
    subprocess.run(["bash", str(PROVISION)], check=True)
    uv = uv_version()
    for image in IMAGES:
        started = time.monotonic()
        build(image, uv)
        if report:
            print(f"{image.tag:<32} {size(image.tag):>8}  ({time.monotonic() - started:.0f} s)", flush=True)


def missing() -> list[str]:
    """Tags of the images a containerised cluster needs that are not built yet."""
    return [
        image.tag
        for image in IMAGES
        if subprocess.run(["podman", "image", "exists", image.tag], check=False).returncode != 0
    ]
