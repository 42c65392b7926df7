"""Every workspace package declares what it imports: its image installs only its own dependencies,
so an import that another package happens to bring into the shared environment breaks it there."""

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).parents[3]
PACKAGES = sorted(
    p.parent
    for pattern in ("libs/*", "services/*", "deploy/*")
    for p in REPO.glob(f"{pattern}/pyproject.toml")
)


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement: str) -> str:
    return normalized(re.split(r"[\[<>=!~ ;]", requirement, maxsplit=1)[0])


def project(package: Path) -> dict[str, object]:
    data: dict[str, object] = tomllib.loads((package / "pyproject.toml").read_text())
    return data


def workspace_modules() -> dict[str, str]:
    """Import name → distribution name of every workspace package."""
    modules = {}
    for package in PACKAGES:
        data = project(package)
        name = data["project"]["name"]  # type: ignore[index]
        modules[data["tool"]["uv"]["build-backend"]["module-name"]] = normalized(name)  # type: ignore[index]
    return modules


def imported_top_levels(source_dir: Path) -> set[str]:
    found = set()
    for path in source_dir.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found


def providers(module: str) -> set[str]:
    """The distributions that provide the top-level ``module``."""
    if module in workspace_modules():
        return {workspace_modules()[module]}
    return {normalized(d) for d in importlib.metadata.packages_distributions().get(module, [])}


def undeclared(package: Path) -> dict[str, set[str]]:
    data = project(package)
    declared = {requirement_name(r) for r in data["project"].get("dependencies", [])}  # type: ignore[attr-defined]
    own = {p.name for p in (package / "src").iterdir() if p.is_dir()}
    third_party = imported_top_levels(package / "src") - set(sys.stdlib_module_names) - own
    return {m: providers(m) for m in sorted(third_party) if not providers(m) & declared}


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.name)
def test_every_import_is_a_declared_dependency(package: Path) -> None:
    assert undeclared(package) == {}, f"{package / 'pyproject.toml'}: declare these (module: providers)"


def test_an_undeclared_import_is_found(tmp_path: Path) -> None:
    (tmp_path / "src/demo").mkdir(parents=True)
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "demo"\ndependencies = ["httpx>=0.27"]\n'
        '[tool.uv.build-backend]\nmodule-name = "demo"\n'
    )
    (tmp_path / "src/demo/main.py").write_text(
        "import httpx\nimport yaml\nfrom demo import main\nimport json\n"
    )
    assert undeclared(tmp_path) == {"yaml": {"pyyaml"}}


def test_every_workspace_package_is_checked() -> None:
    assert {p.name for p in PACKAGES} >= {
        "common",
        "app_sdk",
        "gateway",
        "registry",
        "conf_app",
        "node_agent",
        "cluster",
    }
