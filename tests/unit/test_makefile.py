"""``make up``'s node count: from the command line only, never from a sourced ``.cluster/env``."""

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).parents[2]


def up_nodes(*args: str, env_nodes: str | None = None) -> str:
    """The ``--nodes`` that ``make up`` would pass the launcher (``make -n``: printed, nothing run)."""
    env = {k: v for k, v in os.environ.items() if k != "NODES"}
    if env_nodes is not None:
        env["NODES"] = env_nodes
    shown = subprocess.run(
        ["make", "-n", "-C", str(REPO), "up", *args], env=env, capture_output=True, text=True, check=True
    )
    launch = next(line for line in shown.stdout.splitlines() if "ariscale_cluster" in line).split()
    return launch[launch.index("--nodes") + 1]


@pytest.mark.parametrize("env_nodes", [None, "n1,n2", "n1,n2,n3"])
def test_two_nodes_by_default_whatever_the_environment_says(env_nodes: str | None) -> None:
    assert up_nodes(env_nodes=env_nodes) == "2"


def test_a_count_on_the_command_line_wins() -> None:
    assert up_nodes("NODES=3", env_nodes="n1,n2") == "3"
