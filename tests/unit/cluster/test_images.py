"""What each image is built from: a service's image depends on its own sources and the lock only."""

from ariscale_cluster.images import IMAGES, PYTHON_SERVICES, REPO, Image, copied_files


def relative(image: Image) -> set[str]:
    return {str(p.relative_to(image.context)) for p in copied_files(image)}


def test_a_service_image_depends_on_its_sources_the_libraries_and_the_lock_only() -> None:
    files = relative(Image("gateway"))
    assert {"uv.lock", "services/gateway/src/gateway/main.py", "libs/common/pyproject.toml"} <= files
    assert not any(f.startswith(("services/registry/src", "deploy/cluster/src", "tests/")) for f in files)
    assert not any("__pycache__" in f for f in files)


def test_every_service_has_an_image_built_after_its_base() -> None:
    names = [image.name for image in IMAGES]
    assert set(PYTHON_SERVICES) <= set(names)
    for image in IMAGES:
        assert image.dockerfile.exists()
        base = next(
            line.split()[1] for line in image.dockerfile.read_text().splitlines() if line.startswith("FROM")
        )
        parent = base.removeprefix("localhost/ariscale-")
        if parent in names:
            assert names.index(parent) < names.index(image.name), f"{image.name} is built before its base"
    assert Image("gateway").context == REPO
