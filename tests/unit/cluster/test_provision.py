import subprocess
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).parents[3] / "deploy/scripts"


@pytest.mark.parametrize("script", ["provision.sh", "provision_containers.sh"])
def test_provision_refuses_to_run_without_root(script: str) -> None:
    result = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "bash", str(SCRIPTS / script)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0, "one line, naming the reason"
    assert "root" in result.stderr
