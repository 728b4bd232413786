"""vpc-nat-exhausted.yaml over a gateway's router status (routers.getRouterStatus natStatus[],
https://cloud.google.com/compute/docs/reference/rest/v1/routers/getRouterStatus): a MANUAL_ONLY gateway
whose minExtraNatIpsNeeded is above 0 lacks NAT IPs even when Monitoring says nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from infradiag.config import Thresholds
from infradiag.diagnose.engine import diagnose
from infradiag.diagnose.findings import Finding
from infradiag.diagnose.playbook import PLAYBOOK_DIR, load_playbook
from infradiag.evidence import Evidence, NatEvidence

UPDATE = "gcloud compute routers nats update nat --router r --region r1 --project p-1"
# As gcpdiag captured nat1's public-nat-gateway: one NAT IP, minPortsPerVm 32000, 2 more NAT IPs needed.
MANUAL: dict[str, Any] = {
    "nat_ip_allocate_option": "MANUAL_ONLY",
    "nat_ips": ["nat-ip-1"],
    "min_ports_per_vm": 32000,
    "min_ports_per_vm_set": True,
    "ports_per_vm": 32768,
    "port_capacity": 64512,
    "vms_with_ports": 1,
}
STATUS_LINE = "routers.getRouterStatus: minExtraNatIpsNeeded 2 (2 VM endpoints with NAT mappings)"


def _findings(**nat: Any) -> list[Finding]:
    gateway = NatEvidence(name="nat", router="r", network="vpc", region="r1", all_subnets=True, **nat)
    evidence = Evidence(project="p-1", region="r1", now=datetime(2026, 1, 1, tzinfo=UTC), nats=[gateway])
    playbook = load_playbook(PLAYBOOK_DIR / "vpc-nat-exhausted.yaml")
    return diagnose(evidence, [playbook], Thresholds().model_dump()).findings


def _evidence(finding: Finding) -> list[str]:
    return [line.detail for why in finding.why for line in why.evidence]


def test_router_status_alone_finds_the_gateway_short_of_nat_ips() -> None:
    # Monitoring unreadable: every drop and allocation field unknown.
    (found,) = _findings(**MANUAL, min_extra_nat_ips_needed=2, vm_endpoints_with_mappings=2, nat_ips_needed=3)
    assert found.cause == "vpc.nat_exhausted"
    assert found.title.startswith(
        "Cloud NAT nat on router r lacks 2 NAT IP(s) for the VMs configured to use it"
    )
    assert "drops" not in found.title and "failed to allocate" not in found.title
    evidence = _evidence(found)
    assert STATUS_LINE in evidence
    assert not any("dropped_sent_packets_count" in line for line in evidence)  # Monitoring said nothing
    assert "NAT IPs 1 -> 3" in found.remediation.summary
    assert "natIpAllocateOption MANUAL_ONLY -> AUTO_ONLY" in found.remediation.summary
    assert found.remediation.commands == [
        "gcloud compute addresses create $(seq -f 'nat-ip-%g' 2 3) --region r1 --project p-1",
        f"{UPDATE} --nat-external-ip-pool \"nat-ip-1,$(seq -s, -f 'nat-ip-%g' 2 3)\"",
        f"{UPDATE} --auto-allocate-nat-external-ips",
    ]


def test_a_quiet_status_or_an_auto_only_gateway_is_not_blamed() -> None:
    assert _findings(**MANUAL, min_extra_nat_ips_needed=0, vm_endpoints_with_mappings=1) == []
    # minExtraNatIpsNeeded "is meaningful only when auto-allocation of NAT IPs is not used".
    auto = {**MANUAL, "nat_ip_allocate_option": "AUTO_ONLY", "port_capacity": None, "vms_with_ports": None}
    assert _findings(**auto, min_extra_nat_ips_needed=2) == []


def test_a_failed_allocation_is_explained_by_the_missing_nat_ips_not_by_ports_per_vm() -> None:
    # No connector or service explains the demand; the status does: more NAT IPs, not dynamic allocation.
    (found,) = _findings(
        **MANUAL,
        min_extra_nat_ips_needed=2,
        nat_ips_needed=3,
        allocation_failed=True,
        dropped_out_of_resources=0.0,
        dropped_endpoint_independence_conflict=0.0,
    )
    assert found.title.startswith("Cloud NAT nat on router r failed to allocate NAT ports (no packet dropped")
    assert found.title.endswith("and routers.getRouterStatus asks for 2 more NAT IP(s)")
    assert "(2 VM endpoints" not in " ".join(_evidence(found))  # not returned: not said
    assert "routers.getRouterStatus: minExtraNatIpsNeeded 2" in _evidence(found)
    assert "NAT IPs 1 -> 3" in found.remediation.summary
    assert not any("--enable-dynamic-port-allocation" in c for c in found.remediation.commands)


def test_known_demand_keeps_its_own_count_beside_the_status() -> None:
    # Drops, 2 VMs known to take ports (2 NAT IPs at 32768 each), and Google asking for 1 + 2.
    (found,) = _findings(
        **MANUAL,
        min_extra_nat_ips_needed=2,
        vm_endpoints_with_mappings=2,
        vms_needing_ports=2,
        nat_ips_needed=3,
        dropped_out_of_resources=30.0,
        dropped_endpoint_independence_conflict=0.0,
        allocation_failed=False,
    )
    assert found.title.endswith("ports for 1 VM(s), 2 need them")
    evidence = " ".join(_evidence(found))
    assert "2 VMs x 32768 ports need 2 NAT IP(s)" in evidence and STATUS_LINE in evidence
    assert "NAT IPs 1 -> 3" in found.remediation.summary
