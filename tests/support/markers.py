"""Marking a test level's folder: ``pytest -m e2e`` / ``-m "not integration"`` select by level."""

from pathlib import Path

import pytest


def mark_folder(items: list[pytest.Item], folder: Path, marker: pytest.MarkDecorator) -> None:
    """Add ``marker`` to the items under ``folder`` (a conftest's hook sees the whole session's)."""
    for item in items:
        if folder in item.path.parents:
            item.add_marker(marker)
