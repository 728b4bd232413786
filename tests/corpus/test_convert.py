"""The corpus converter on small dumps written here (runs without the gcpdiag corpus): resources pass through
unchanged, files go to the right collections, conflicting captures are refused, region and now fall back
to the dumps."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from infradiag.twin.scenario import load_scenario
from tests.corpus.convert import ConversionError, scenario

PROJECT = "acme-corpus-test"
COMPUTE = f"https://www.googleapis.com/compute/v1/projects/{PROJECT}"
SERVICE = {
    "name": f"projects/{PROJECT}/locations/europe-west1/services/web",
    "uri": "https://web-abc-ew.a.run.app",
    "terminalCondition": {
        "type": "Ready",
        "state": "CONDITION_SUCCEEDED",
        "lastTransitionTime": "2024-01-02T03:04:05.6Z",
    },
    "unknownFutureField": {"kept": True},
}
FIREWALL = {
    "kind": "compute#firewall",
    "name": "allow-web",
    "network": f"{COMPUTE}/global/networks/default",
    "priority": 0,
    "allowed": [{"IPProtocol": "tcp", "ports": ["80"]}],
    "creationTimestamp": "2023-12-31T16:00:00.000-08:00",
    "selfLink": f"{COMPUTE}/global/firewalls/allow-web",
}
BACKEND = {
    "name": "bs",
    "selfLink": f"{COMPUTE}/global/backendServices/bs",
    "backends": [{"group": f"{COMPUTE}/zones/europe-west1-b/instanceGroups/ig"}],
}
HEALTH = {
    "kind": "compute#backendServiceGroupHealth",
    "healthStatus": [{"ipAddress": "10.0.0.2", "port": 80, "healthState": "UNHEALTHY"}],
}


def _dumps(tmp_path: Path, extra: dict[str, Any] | None = None) -> Path:
    dumps = tmp_path / "json-dumps"
    dumps.mkdir()
    files: dict[str, Any] = {
        "project.json": {"name": "projects/123456789", "projectId": PROJECT},
        "cloudrun_services.json": {"services": [SERVICE]},
        "compute-effective-firewalls-default.json": {"firewalls": [FIREWALL], "firewallPolicys": []},
        "compute-network-routes.json": {"kind": "compute#routeList", "id": "x", "items": [{"name": "r"}]},
        "compute-aggregated-backendServices.json": {"items": {"global": {"backendServices": [BACKEND]}}},
        "backendService-bs-get-health-instanceGroups-ig-europe-west1-b.json": HEALTH,
        "iam-policy.json": {"bindings": []},
        **(extra or {}),
    }
    for name, body in files.items():
        (dumps / name).write_text(json.dumps(body))
    return dumps


def test_resources_go_in_as_captured(tmp_path: Path) -> None:
    built = scenario(_dumps(tmp_path), {"corpusProject": "t"})
    assert built["project"] == PROJECT
    assert built["projectNumber"] == "123456789"
    assert built["run"]["services"] == [SERVICE]
    assert built["compute"]["firewalls"] == [FIREWALL]
    assert built["compute"]["backendServices"] == [BACKEND]
    # The routes list is not a network, and files infradiag does not read are left out.
    assert "networks" not in built["compute"]
    assert set(built) == {
        "apiVersion",
        "name",
        "summary",
        "project",
        "projectNumber",
        "region",
        "now",
        "run",
        "compute",
    }
    # getHealth answers are keyed by the backend service's scope and name; Google's kind is the twin's to add.
    assert built["compute"]["backendServiceHealth"] == {
        "global/backendServices/bs": {"healthStatus": HEALTH["healthStatus"]}
    }


def test_region_and_now_come_from_the_dumps_unless_the_project_file_says(tmp_path: Path) -> None:
    dumps = _dumps(tmp_path)
    derived = scenario(dumps, {"corpusProject": "t"})
    # The Cloud Run service's location; a minute after the latest timestamp (the condition's), in UTC.
    assert (derived["region"], derived["now"]) == ("europe-west1", "2024-01-02T03:05:05Z")
    given = scenario(dumps, {"corpusProject": "t", "region": "us-east1", "now": "2024-02-01T00:00:00Z"})
    assert (given["region"], given["now"]) == ("us-east1", "2024-02-01T00:00:00Z")


def test_two_different_captures_of_one_resource_are_refused_until_one_is_skipped(tmp_path: Path) -> None:
    later = {**FIREWALL, "priority": 900}
    dumps = _dumps(tmp_path, {"compute-effective-firewalls-other.json": {"firewalls": [later]}})
    with pytest.raises(ConversionError, match="allow-web differs between"):
        scenario(dumps, {"corpusProject": "t"})
    kept = scenario(
        dumps, {"corpusProject": "t", "skipFiles": {"compute-effective-firewalls-default.json": "older"}}
    )
    assert kept["compute"]["firewalls"] == [later]


def test_equal_captures_of_one_resource_are_kept_once(tmp_path: Path) -> None:
    dumps = _dumps(tmp_path, {"compute-effective-firewalls-other.json": {"firewalls": [FIREWALL]}})
    assert scenario(dumps, {"corpusProject": "t"})["compute"]["firewalls"] == [FIREWALL]


def test_the_script_writes_a_scenario_the_twin_loads(tmp_path: Path) -> None:
    dumps = _dumps(tmp_path)
    project = tmp_path / "t.yaml"
    project.write_text(yaml.safe_dump({"corpusProject": "t", "expect": {"verdict": "healthy"}}))
    script = Path(__file__).with_name("convert.py")
    result = subprocess.run(
        [sys.executable, str(script), str(dumps), str(project)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    written = tmp_path / "scenario.yaml"
    written.write_text(result.stdout)
    loaded = load_scenario(written)
    assert loaded.compute.firewalls == [FIREWALL]
    assert loaded.expect is not None and loaded.expect.verdict == "healthy"
