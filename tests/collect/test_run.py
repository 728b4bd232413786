"""Cloud Run resources, parsed from REST JSON by the official library, flattened into evidence."""

from __future__ import annotations

import json
from typing import Any

from google.cloud import run_v2

from infradiag.collect.run import revision_evidence, service_evidence
from tests.collect.fleet import LOC, PROJECT, service


def _service(data: dict[str, Any]) -> Any:
    return run_v2.Service.from_json(json.dumps(data), ignore_unknown_fields=True)


def _revision(data: dict[str, Any]) -> Any:
    return run_v2.Revision.from_json(json.dumps(data), ignore_unknown_fields=True)


def test_failed_terminal_condition_keeps_its_revision_reason_and_the_pinned_traffic() -> None:
    evidence = service_evidence(_service(service(0)), PROJECT)
    assert not evidence.ready
    ready, routes = evidence.conditions
    assert (ready.type, ready.state, ready.reason) == (
        "Ready",
        "CONDITION_FAILED",
        "HEALTH_CHECK_CONTAINER_ERROR",
    )
    assert "not ready" in (ready.message or "")
    assert (routes.type, routes.state, routes.reason) == ("RoutesReady", "CONDITION_SUCCEEDED", None)
    (target,) = evidence.traffic
    assert (target.revision, target.latest, target.percent) == ("svc-0-00001-abc", False, 100)
    assert evidence.cloudsql_instances == [f"{PROJECT}:us-central1:main-db"]
    assert evidence.connector == f"{LOC}/connectors/staging-conn"
    assert evidence.egress == "ALL_TRAFFIC"


def test_direct_vpc_egress_names_network_and_subnet_by_short_name() -> None:
    data = service(1)
    data["template"]["vpcAccess"]["networkInterfaces"] = [
        {
            "network": f"projects/{PROJECT}/global/networks/vpc-a",
            "subnetwork": "regions/us-central1/subnetworks/sub-b",
        }
    ]
    evidence = service_evidence(_service(data), PROJECT)
    assert (evidence.direct_egress_network, evidence.direct_egress_subnet) == ("vpc-a", "sub-b")
    assert evidence.connector is None
    assert evidence.egress == "PRIVATE_RANGES_ONLY"
    assert evidence.traffic[0].latest and evidence.traffic[0].revision is None


def test_connector_given_by_project_number_is_normalised_to_the_project_id() -> None:
    data = service(2)
    data["template"]["vpcAccess"] = {"connector": "projects/123456789012/locations/us-central1/connectors/c1"}
    assert service_evidence(_service(data), PROJECT).connector == f"{LOC}/connectors/c1"


def test_revision_ready_follows_its_ready_condition() -> None:
    failed = revision_evidence(
        _revision(
            {
                "name": f"{LOC}/services/api/revisions/api-00007-xyz",
                "conditions": [
                    {"type": "ContainerHealthy", "state": "CONDITION_SUCCEEDED"},
                    {
                        "type": "Ready",
                        "state": "CONDITION_FAILED",
                        "message": "Image not found",
                        "reason": "CONTAINER_MISSING",
                    },
                ],
            }
        )
    )
    assert (failed.name, failed.service, failed.ready) == ("api-00007-xyz", "api", False)
    assert (failed.message, failed.reason) == ("Image not found", "CONTAINER_MISSING")
    ok = revision_evidence(
        _revision(
            {
                "name": f"{LOC}/services/api/revisions/api-1",
                "conditions": [{"type": "Ready", "state": "CONDITION_SUCCEEDED"}],
            }
        )
    )
    assert ok.ready and ok.message is None and ok.reason is None


def test_revision_without_ready_condition_is_not_ready_when_another_condition_failed() -> None:
    revision = revision_evidence(
        _revision(
            {
                "name": f"{LOC}/services/api/revisions/api-2",
                "conditions": [
                    {
                        "type": "ResourcesAvailable",
                        "state": "CONDITION_FAILED",
                        "revisionReason": "MIN_INSTANCES_NOT_PROVISIONED",
                    }
                ],
            }
        )
    )
    assert not revision.ready
    assert revision.reason == "MIN_INSTANCES_NOT_PROVISIONED"
