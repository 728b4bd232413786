"""What the gcloud and Terraform checkers (tests/fixes/gcloud.py, terraform.py) share: their committed JSON
table read once, the `<...>` placeholder left for the reader, and how a test asks for a problem by name."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

# A placeholder such as `<a /26 or larger>` or `<instance>`.
ANGLED_PLACEHOLDER = re.compile(r"<[^<>]*>")


@cache
def read_table(path: Path) -> dict[str, Any]:
    """The JSON object in `path`, read once per path."""
    table: dict[str, Any] = json.loads(path.read_text())
    return table


def assert_named(found: list[str], problem: str) -> None:
    """Fails, showing every problem `found`, unless one of them says `problem`."""
    assert any(problem in line for line in found), found
