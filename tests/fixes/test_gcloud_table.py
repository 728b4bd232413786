"""tools/gcloud_table.py reads positionals and required flags from a synopsis and command paths from text,
without gcloud: these are the parts the committed table depends on."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest


def _tool() -> ModuleType:
    path = Path(__file__).resolve().parents[2] / "tools" / "gcloud_table.py"
    spec = importlib.util.spec_from_file_location("gcloud_table", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TOOL = _tool()
TREE: dict[str, Any] = {
    "flags": {},
    "commands": {
        "compute": {
            "flags": {},
            "commands": {
                "health-checks": {
                    "flags": {},
                    "commands": {
                        "update": {
                            "flags": {},
                            "commands": {
                                "http": {"flags": {}, "commands": {}},
                                "tcp": {"flags": {}, "commands": {}},
                            },
                        }
                    },
                },
                "regions": {"flags": {}, "commands": {"describe": {"flags": {}, "commands": {}}}},
            },
        }
    },
}


@pytest.mark.parametrize(
    ("synopsis", "expected"),
    [
        (
            " NAME --router=ROUTER [--async] [--[no-]enable-dynamic-port-allocation]"
            " [--min-ports-per-vm=MIN_PORTS_PER_VM] [GCLOUD_WIDE_FLAG ...]",
            {"min": 1, "max": 1, "required": ["--router"], "one_of": []},
        ),
        (
            " SOURCE DESTINATION [--async] [--bin-log-file-name=BIN_LOG_FILE_NAME"
            " --bin-log-position=BIN_LOG_POSITION | [--point-in-time=POINT_IN_TIME]] [GCLOUD_WIDE_FLAG ...]",
            {"min": 2, "max": 2, "required": [], "one_of": []},
        ),
        (
            " [NAME ...] [--description=DESCRIPTION] [--addresses=ADDRESS,[ADDRESS,...] | --ip-version=V]"
            " [--global | --region=REGION] [GCLOUD_WIDE_FLAG ...]",
            {"min": 0, "max": None, "required": [], "one_of": []},
        ),
        (
            " NAME (--action=ACTION | --allow=PROTOCOL[:PORT[-PORT]],[...]) [--priority=PRIORITY]",
            {"min": 1, "max": 1, "required": [], "one_of": [["--action", "--allow"]]},
        ),
        (
            " --instance=INSTANCE, -i INSTANCE [--limit=LIMIT] [GCLOUD_WIDE_FLAG ...]",
            {"min": 0, "max": 0, "required": ["--instance"], "one_of": []},
        ),
        (
            " (CONNECTOR : --region=REGION) [--max-instances=MAX_INSTANCES] [GCLOUD_WIDE_FLAG ...]",
            {"min": 1, "max": 1, "required": [], "one_of": []},
        ),
    ],
)
def test_a_synopsis_gives_positionals_and_required_flags(synopsis: str, expected: dict[str, Any]) -> None:
    assert TOOL.arguments(synopsis) == expected


def test_the_longest_path_that_names_a_command_is_taken() -> None:
    assert TOOL.longest_command(TREE, ["compute", "regions", "describe", "us-central1"]) == [
        "compute",
        "regions",
        "describe",
    ]
    # A group is no command; a template after it stands for each of its commands (used_paths).
    assert TOOL.longest_command(TREE, ["compute", "health-checks", "update"]) is None
    assert TOOL._group(TREE, ["compute", "health-checks", "update"]) == ("compute", "health-checks", "update")
