"""Cloud NAT findings say why, through the CLI: the title says what happened (drops per reason, or only a
failed allocation) and what in the gateway's configuration explains it, the evidence agrees with the title,
and the fix changes the values that explain it, from their current to a proposed value."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import ROOT, run_cli

GCLOUD_UPDATE = (
    "gcloud compute routers nats update staging-nat --router staging-router --region us-central1 "
    "--project acme-staging"
)


def _finding(scenario: str) -> dict[str, Any]:
    result = run_cli("triage", "--scenario", str(ROOT / "scenarios" / f"{scenario}.yaml"), "--format", "json")
    assert result.returncode in (0, 1) and result.stdout, result.stderr
    (finding,) = [f for f in json.loads(result.stdout)["findings"] if f["cause"] == "vpc.nat_exhausted"]
    return finding


def _evidence(finding: dict[str, Any]) -> list[str]:
    return [e["detail"] for why in finding["why"] for e in why["evidence"]]


@pytest.fixture(scope="module")
def manual_ip_short() -> dict[str, Any]:
    return _finding("cause-vpc-nat-manual-ip-short")


def test_allocation_failure_without_drops_never_says_drops(manual_ip_short: dict[str, Any]) -> None:
    title = manual_ip_short["title"]
    assert "failed to allocate NAT ports (no packet dropped in 15 min)" in title
    assert "drops" not in title
    evidence = _evidence(manual_ip_short)
    assert "router.googleapis.com/nat/nat_allocation_failed was true within the last 15 min" in evidence
    assert not any("reason OUT_OF_RESOURCES" in e for e in evidence)


def test_manual_only_capacity_explains_the_failure(manual_ip_short: dict[str, Any]) -> None:
    assert manual_ip_short["title"].endswith(
        "MANUAL_ONLY with 1 NAT IP(s) and minPortsPerVm 32000 (32768 per VM: Google rounds it up to a power "
        "of two): ports for 1 VM(s), 2 need them"
    )
    evidence = _evidence(manual_ip_short)
    assert "takes NAT ports: connector staging-conn: 2 instances" in evidence
    assert "1 x 64512 = 64512 ports; 2 VMs x 32768 ports need 2 NAT IP(s)" in " ".join(evidence)


def test_manual_only_fix_goes_from_current_to_proposed_values(manual_ip_short: dict[str, Any]) -> None:
    fix = manual_ip_short["remediation"]
    assert "NAT IPs 1 -> 2" in fix["summary"]
    assert "natIpAllocateOption MANUAL_ONLY -> AUTO_ONLY" in fix["summary"]
    # 64512 ports / 2 VMs = 32256 each; the largest power of two below is 16384.
    assert "minPortsPerVm 32000 -> 16384" in fix["summary"]
    assert fix["commands"][1:] == [
        f"{GCLOUD_UPDATE} --nat-external-ip-pool \"staging-nat-ip-1,$(seq -s, -f 'staging-nat-ip-%g' 2 2)\"",
        f"{GCLOUD_UPDATE} --auto-allocate-nat-external-ips",
        f"{GCLOUD_UPDATE} --min-ports-per-vm 16384",
    ]
    assert "--project acme-staging" in fix["commands"][0] and "--region us-central1" in fix["commands"][0]


def test_endpoint_independence_conflicts_get_their_own_fix() -> None:
    finding = _finding("cause-vpc-nat-endpoint-conflict")
    # (30 TCP + 4 UDP) packets a minute over 15 minutes, all of one reason.
    assert finding["title"] == (
        "Cloud NAT staging-nat on router staging-router drops 510 packets from endpoint-independence "
        "conflicts (ENDPOINT_INDEPENDENCE_CONFLICT) in 15 min: endpoint-independent mapping is on with 64 "
        "ports per VM"
    )
    evidence = _evidence(finding)
    assert (
        "router.googleapis.com/nat/dropped_sent_packets_count, reason ENDPOINT_INDEPENDENCE_CONFLICT: "
        "510 packets over 15 min"
    ) in evidence
    assert not any("OUT_OF_RESOURCES" in e or "nat_allocation_failed" in e for e in evidence)
    fix = finding["remediation"]
    assert fix["summary"].startswith("Endpoint-independent mapping on -> off")
    assert "minPortsPerVm 64 -> 128" in fix["summary"]
    assert fix["commands"] == [
        f"{GCLOUD_UPDATE} --no-enable-endpoint-independent-mapping",
        f"{GCLOUD_UPDATE} --min-ports-per-vm 128",
    ]


def test_out_of_resources_drops_say_how_many_and_enable_dynamic_allocation() -> None:
    finding = _finding("cause-vpc-nat-exhausted")
    assert finding["title"].startswith(
        "Cloud NAT staging-nat on router staging-router drops 6300 packets for lack of ports "
        "(OUT_OF_RESOURCES) in 15 min: each VM gets 64 ports"
    )
    assert "dynamic port allocation off" in finding["title"]
    fix = finding["remediation"]
    assert "dynamic port allocation off -> on" in fix["summary"]
    # Dynamic port allocation cannot be enabled while endpoint-independent mapping is on.
    assert "endpoint-independent mapping off -> off" not in fix["summary"]
    assert fix["commands"] == [f"{GCLOUD_UPDATE} --enable-dynamic-port-allocation"]


def test_automatic_allocation_failure_points_at_the_address_quota() -> None:
    finding = _finding("cause-vpc-nat-auto-allocation-failed")
    assert finding["title"] == (
        "Cloud NAT staging-nat on router staging-router failed to allocate NAT ports (no packet dropped in "
        "15 min): it allocates NAT IPs automatically, so it could not add one for the VMs at 4096 ports each"
    )
    fix = finding["remediation"]
    # 64512 / 4096 = 15 VMs per added NAT IP; halving the ports per VM doubles that.
    assert "each NAT IP Google can then add gives 15 more VMs their 4096 ports" in fix["summary"]
    assert "minPortsPerVm 4096 -> 2048" in fix["summary"]
    assert fix["commands"][1] == f"{GCLOUD_UPDATE} --min-ports-per-vm 2048"
    assert fix["commands"][0].startswith(
        "gcloud compute regions list --project acme-staging --flatten quotas"
    )
    assert "name=us-central1 AND quotas.metric ~ ADDRESSES" in fix["commands"][0]
