"""The corpus converter maps captured routers.getRouterStatus answers (compute-routers-routerStatus-<router>
.json, https://cloud.google.com/compute/docs/reference/rest/v1/routers/getRouterStatus) into the twin's
compute.routerStatus; runs on small dumps written here, without the gcpdiag corpus."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from infradiag.twin.scenario import load_scenario
from tests.corpus.convert import ConversionError, scenario

PROJECT = "acme-corpus-test"
COMPUTE = f"https://www.googleapis.com/compute/v1/projects/{PROJECT}"
NETWORK = f"{COMPUTE}/global/networks/nat-vpc"


def _router(region: str) -> dict[str, Any]:
    return {
        "kind": "compute#router",
        "name": "nat-router",
        "region": f"{COMPUTE}/regions/{region}",
        "network": NETWORK,
        "selfLink": f"{COMPUTE}/regions/{region}/routers/nat-router",
        "nats": [
            {
                "name": "gw",
                "natIpAllocateOption": "MANUAL_ONLY",
                "natIps": [f"{COMPUTE}/regions/{region}/addresses/ip-1"],
            }
        ],
    }


def _status(region: str) -> dict[str, Any]:
    return {
        "kind": "compute#routerStatusResponse",
        "result": {
            "network": NETWORK,
            "natStatus": [
                {
                    "name": "gw",
                    "userAllocatedNatIpResources": [f"{COMPUTE}/regions/{region}/addresses/ip-1"],
                    "minExtraNatIpsNeeded": 2,
                    "numVmEndpointsWithNatMappings": 2,
                }
            ],
        },
    }


def _dumps(tmp_path: Path, files: dict[str, Any]) -> Path:
    dumps = tmp_path / "json-dumps"
    dumps.mkdir()
    (dumps / "project.json").write_text(json.dumps({"name": "projects/12345", "projectId": PROJECT}))
    for name, body in files.items():
        (dumps / name).write_text(json.dumps(body))
    return dumps


PROJECT_FILE = {"corpusProject": "t", "region": "europe-west4", "now": "2024-10-27T03:46:00Z"}


def test_status_goes_to_the_router_of_its_region_unchanged(tmp_path: Path) -> None:
    dumps = _dumps(
        tmp_path,
        {
            "compute-routers-europe-west4.json": {"items": [_router("europe-west4")]},
            "compute-routers-us-central1.json": {"items": [_router("us-central1")]},
            # Two routers are named nat-router: the status's own address URLs tell which one it is.
            "compute-routers-routerStatus-nat-router.json": _status("europe-west4"),
        },
    )
    built = scenario(dumps, PROJECT_FILE)
    assert built["compute"]["routerStatus"] == [
        {"router": "nat-router", "region": "europe-west4", "result": _status("europe-west4")["result"]}
    ]
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(built))
    loaded = load_scenario(path)
    assert loaded.compute.routerStatus[0].result["natStatus"][0]["minExtraNatIpsNeeded"] == 2


def test_status_of_no_captured_router_must_be_skipped(tmp_path: Path) -> None:
    files = {
        "compute-routers-europe-west4.json": {"items": [_router("europe-west4")]},
        "compute-routers-routerStatus-nat_router.json": _status("europe-west4"),
    }
    dumps = _dumps(tmp_path, files)
    with pytest.raises(ConversionError, match="skipFiles"):
        scenario(dumps, PROJECT_FILE)
    skipping = {**PROJECT_FILE, "skipFiles": {"compute-routers-routerStatus-nat_router.json": "a variant"}}
    assert "routerStatus" not in scenario(dumps, skipping)["compute"]
