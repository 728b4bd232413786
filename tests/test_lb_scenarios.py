"""The commands of load balancer findings, triaged end to end from their scenarios (an `expect` block checks
causes, not command text): regional backend services get --region and the regional Terraform resource,
health-check port fixes name the check and its scope, firewall fixes admit exactly the probe ranges."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import SCENARIOS, run_cli


def findings(name: str) -> dict[str, dict[str, Any]]:
    """The lb.* findings of scenario `name`, by cause."""
    result = run_cli("triage", "--scenario", str(SCENARIOS / f"{name}.yaml"), "--format", "json")
    assert result.returncode in (0, 1), result.stderr
    found = [f for f in json.loads(result.stdout)["findings"] if f["cause"].startswith("lb.")]
    by_cause = {f["cause"]: f for f in found}
    assert len(by_cause) == len(found)
    return by_cause


@pytest.fixture(scope="module")
def regional_serverless() -> dict[str, dict[str, Any]]:
    return findings("cause-lb-regional-health-check-on-serverless")


def test_regional_backend_service_commands_name_its_region(regional_serverless: dict[str, Any]) -> None:
    fix = regional_serverless["lb.health_check_misconfigured"]["remediation"]
    assert fix["commands"] == [
        "gcloud compute backend-services update internal-web --region us-central1 --project acme-staging"
        " --no-health-checks"
    ]
    assert fix["terraform"].startswith('resource "google_compute_region_backend_service" "internal_web" {')
    assert '  region        = "us-central1"' in fix["terraform"].splitlines()


def test_firewall_deny_ahead_of_the_probe_allow_is_named_and_outranked() -> None:
    finding = findings("cause-lb-regional-probes-blocked")["lb.backend_unhealthy"]
    lines = [e["detail"] for step in finding["why"] for e in step["evidence"]]
    assert any("denied by rule staging-deny-all-ingress (priority 900)" in line for line in lines)
    assert finding["remediation"]["commands"] == [
        "gcloud compute firewall-rules create internal-api-allow-health-checks --project acme-staging"
        " --network staging-vpc --direction INGRESS --action allow --rules tcp:8080"
        " --source-ranges 35.191.0.0/16,130.211.0.0/22 --priority 899 --target-tags internal-api",
        "gcloud compute backend-services get-health internal-api --region us-central1 --project acme-staging",
    ]


def test_implied_deny_fix_targets_the_backend_tag_only() -> None:
    finding = findings("cause-lb-probes-blocked-implied-deny")["lb.backend_unhealthy"]
    lines = [e["detail"] for step in finding["why"] for e in step["evidence"]]
    assert any("implied deny-all ingress (priority 65535)" in line for line in lines)
    (create, get_health) = finding["remediation"]["commands"]
    assert create.endswith(
        "--rules tcp:9000 --source-ranges 35.191.0.0/16,130.211.0.0/22 --priority 1000"
        " --target-tags legacy-api"
    )
    assert (
        get_health == "gcloud compute backend-services get-health legacy-api --global --project acme-staging"
    )


def test_fixed_port_off_the_serving_port_is_switched_to_the_serving_port() -> None:
    finding = findings("cause-lb-health-check-wrong-port")["lb.health_check_misconfigured"]
    assert (
        "probes fixed port 80; legacy-api sends traffic to named port http = 8080"
        in finding["why"][-1]["answer"]
    )
    fix = finding["remediation"]
    assert fix["commands"] == [
        "gcloud compute health-checks update http legacy-api-hc --global --project acme-staging"
        " --use-serving-port"
    ]
    assert fix["terraform"] == (
        'resource "google_compute_health_check" "legacy_api_hc" {\n'
        '  name    = "legacy-api-hc"\n'
        '  project = "acme-staging"\n'
        "  http_health_check {\n"
        '    port_specification = "USE_SERVING_PORT"\n'
        "  }\n"
        "}"
    )


def test_missing_named_port_shows_what_the_group_defines() -> None:
    finding = findings("cause-lb-health-check-named-port-missing")["lb.health_check_misconfigured"]
    fix = finding["remediation"]
    assert "Add named port http to instance group legacy-api-ig" in fix["summary"]
    assert "it now holds web:8080" in fix["summary"]
    assert fix["commands"] == [
        "gcloud compute instance-groups get-named-ports legacy-api-ig --zone us-central1-a"
        " --project acme-staging"
    ]


def test_a_firewall_that_admits_the_probes_is_not_blamed() -> None:
    finding = findings("cause-lb-backend-unhealthy")["lb.backend_unhealthy"]
    assert finding["title"] == "Load balancer backend legacy-api has no healthy backends"
    lines = [e["detail"] for step in finding["why"] for e in step["evidence"]]
    assert any("tcp:8080 admitted by rule staging-allow-health-checks" in line for line in lines)
    assert "firewall for" not in finding["remediation"]["summary"]
    # The next step is what the probe asks: HTTP health checks pass on 200 only.
    assert "curl -i http://10.0.0.11:8080/healthz must answer 200" in finding["remediation"]["summary"]
    assert finding["remediation"]["commands"] == [
        "gcloud compute backend-services get-health legacy-api --global --project acme-staging"
    ]
