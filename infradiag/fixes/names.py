"""Parts of Google resource names, for fixes that must name a resource's own project or location."""

from __future__ import annotations

from typing import Any


def resource_part(name: Any, collection: Any) -> str:
    """The id that follows `collection` in a full resource name (`projects/P/locations/L/...`):
    resource_part(key, "projects") is the project the resource lives in, which may not be the one triaged.
    Empty when the name has no such collection."""
    parts = str(name).split("/")
    for i in range(len(parts) - 1):
        if parts[i] == str(collection):
            return parts[i + 1]
    return ""
