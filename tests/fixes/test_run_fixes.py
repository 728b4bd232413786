"""Cloud Run fixes as typed services.patch requests, read from the bundled scenarios' own triage: the ingress
fix lets the prober in (all, never internal-and-cloud-load-balancing) and is marked as widening exposure;
the cold-start fix sends minInstanceCount alone and costs more; max instances come from the evidence."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import SCENARIOS
from tests.scenario_triage import group, triage

INGRESS = SCENARIOS / "cause-run-ingress-blocked.yaml"
COLD = SCENARIOS / "cause-run-cold-start.yaml"
AT_MAX = SCENARIOS / "cause-run-max-instances-reached.yaml"


def fix(path: Any, cause: str) -> dict[str, Any]:
    report = json.loads(triage(path).stdout)
    [found] = [f for f in report["findings"] if f["cause"] == cause]
    remediation: dict[str, Any] = found["remediation"]
    return remediation


@group(INGRESS)
def test_the_ingress_fix_lets_the_prober_in_and_says_it_widens_exposure() -> None:
    found = fix(INGRESS, "run.ingress_blocked")
    assert found["request"]["body"] == {"ingress": "INGRESS_TRAFFIC_ALL"}
    assert found["request"]["updateMask"] == "ingress"
    assert found["commands"] == [
        "gcloud run services update admin --region us-central1 --project acme-staging --ingress all"
    ]
    assert found["risks"] == ["widens_exposure"]
    assert found["wayBack"] == "set --ingress internal again"
    assert "meant to stay internal, probe it from inside its VPC" in found["summary"]


@group(COLD)
def test_the_cold_start_fix_sends_min_instances_alone() -> None:
    found = fix(COLD, "run.cold_start")
    assert found["request"]["body"] == {"template": {"scaling": {"minInstanceCount": 1}}}
    assert found["commands"][0].endswith("--region us-central1 --project acme-staging --min-instances 1")
    assert found["risks"] == ["costs_more", "restarts"]
    assert "min_instance_count = 1 # was 0" in found["terraform"]


@group(AT_MAX)
def test_max_instances_are_doubled_within_the_databases_headroom() -> None:
    found = fix(AT_MAX, "run.max_instances_reached")
    [change] = found["changes"]
    assert (change["field"], change["current"], change["proposed"]) == (
        "template.scaling.maxInstanceCount",
        10,
        20,
    )
    assert "staging-db has room for" in change["why"]
    assert found["request"]["updateMask"] == "template.scaling.maxInstanceCount"


MEMORY = SCENARIOS / "cause-run-memory-exhausted.yaml"


@group(MEMORY)
def test_the_memory_fix_guesses_no_limit_and_says_what_to_read() -> None:
    found = fix(MEMORY, "run.memory_exhausted")
    # The limit is not in the evidence: no update with a made-up value (the old --memory 1Gi could lower it).
    assert not [c for c in found["commands"] if "--memory" in c]
    assert found["commands"] == [
        "gcloud run services describe worker --region us-central1 --project acme-staging"
        " --format 'value(spec.template.spec.containers[0].resources.limits.memory)'"
    ]
    assert "at least twice" in found["summary"] and "99.9 %" in found["summary"]
