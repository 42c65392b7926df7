"""The cluster's container images: which exist, how each is built (``make images``), their sizes.

Base images come from Debian's archive (``deploy/scripts/provision_containers.sh`` imports
``localhost/ariscale-bookworm`` and ``localhost/ariscale-sid``); every other image is built from a
Dockerfile in ``deploy/docker`` with the repository root as context, so layers cache between runs.
"""

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


def build(image: Image, uv: str) -> None:
    argv = [
        "podman", "build", "--network", "host", "--layers", "--quiet",
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
