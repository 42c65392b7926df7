"""Merging list answers from several nodes into the one answer a single Asterisk would give."""

from typing import Any

# List operation path -> the fields that identify one item across nodes.
_IDENTITY = {
    "/endpoints": ("technology", "resource"),
    "/recordings/stored": ("name",),
    "/sounds": ("id",),
    "/deviceStates": ("name",),
    "/mailboxes": ("name",),
    "/applications": ("name",),
}


def merge_lists(path: str, answers: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Concatenate per-node lists; node-wide items (endpoints, sounds, …) appear once."""
    identity = _IDENTITY.get(path)
    merged: dict[tuple[Any, ...], dict[str, Any]] = {}
    items: list[dict[str, Any]] = []
    for answer in answers:
        for item in answer:
            if identity is None:
                items.append(item)
                continue
            key = tuple(item.get(field) for field in identity)
            if key in merged:
                _merge_item(merged[key], item)
            else:
                merged[key] = dict(item)
                items.append(merged[key])
    return items


def merge_application(answers: list[dict[str, Any]]) -> dict[str, Any]:
    """One app's view across nodes: the union of its channels, bridges, endpoints, devices."""
    merged = dict(answers[0])
    for answer in answers[1:]:
        _merge_item(merged, answer)
    return merged


def _merge_item(into: dict[str, Any], other: dict[str, Any]) -> None:
    for field, value in other.items():
        if isinstance(value, list) and isinstance(into.get(field), list):
            into[field] = into[field] + [v for v in value if v not in into[field]]
