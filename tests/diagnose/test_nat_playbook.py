"""vpc-nat-exhausted.yaml over NAT evidence: which configuration explains the drops, and the change
proposed from the current values (the CLI scenarios in tests/test_nat_findings.py cover the main cases)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from infradiag.config import Thresholds
from infradiag.diagnose.engine import diagnose
from infradiag.diagnose.findings import Finding
from infradiag.diagnose.playbook import PLAYBOOK_DIR, load_playbook
from infradiag.evidence import Evidence, NatEvidence

UPDATE = "gcloud compute routers nats update nat --router r --region r1 --project p-1"


def _findings(**nat: Any) -> list[Finding]:
    gateway = NatEvidence(name="nat", router="r", network="vpc", region="r1", all_subnets=True, **nat)
    evidence = Evidence(project="p-1", region="r1", now=datetime(2026, 1, 1, tzinfo=UTC), nats=[gateway])
    playbook = load_playbook(PLAYBOOK_DIR / "vpc-nat-exhausted.yaml")
    return diagnose(evidence, [playbook], Thresholds().model_dump()).findings


def test_both_reasons_are_named_and_dynamic_allocation_turns_mapping_off() -> None:
    (found,) = _findings(
        dropped_out_of_resources=40.0,
        dropped_endpoint_independence_conflict=7.0,
        allocation_failed=False,
        enable_endpoint_independent_mapping=True,
    )
    assert found.title == (
        "Cloud NAT nat on router r drops 40 packets for lack of ports (OUT_OF_RESOURCES) and 7 packets from "
        "endpoint-independence conflicts (ENDPOINT_INDEPENDENCE_CONFLICT) in 15 min: each VM gets 64 ports "
        "(minPortsPerVm 64 (the default), dynamic port allocation off)"
    )
    assert found.remediation.commands == [
        f"{UPDATE} --enable-dynamic-port-allocation --no-enable-endpoint-independent-mapping"
    ]
    assert "endpoint-independent mapping on -> off" in found.remediation.summary


def test_dynamic_allocation_at_its_ceiling_doubles_max_ports() -> None:
    (found,) = _findings(
        dropped_out_of_resources=5.0,
        enable_dynamic_port_allocation=True,
        min_ports_per_vm=32,
        ports_per_vm=32,
        max_ports_per_vm=4096,
    )
    assert found.remediation.commands == [f"{UPDATE} --max-ports-per-vm 8192"]
    assert found.remediation.summary.startswith("On Cloud NAT nat: maxPortsPerVm 4096 -> 8192")


def test_dynamic_allocation_without_ceiling_raises_the_minimum() -> None:
    (found,) = _findings(
        dropped_out_of_resources=5.0,
        enable_dynamic_port_allocation=True,
        min_ports_per_vm=100,
        min_ports_per_vm_set=True,
        ports_per_vm=128,
        max_ports_per_vm=65536,
    )
    assert found.remediation.commands == [f"{UPDATE} --min-ports-per-vm 256"]
    assert "(128 per VM: Google rounds it up to a power of two)" in found.title


def test_only_an_auto_only_gateway_is_said_to_add_addresses_itself() -> None:
    (unset,) = _findings(allocation_failed=True, dropped_out_of_resources=0.0)
    assert "allocates NAT IPs automatically" not in unset.title
    assert unset.title.endswith(
        "each VM gets 64 ports (minPortsPerVm 64 (the default), dynamic port allocation off)"
    )
    (auto,) = _findings(
        allocation_failed=True, dropped_out_of_resources=0.0, nat_ip_allocate_option="AUTO_ONLY"
    )
    assert "allocates NAT IPs automatically" in auto.title


def test_quiet_or_unknown_gateways_are_not_blamed() -> None:
    assert _findings(dropped_out_of_resources=0.0, dropped_endpoint_independence_conflict=0.0) == []
    assert _findings(allocation_failed=False) == []  # drops unknown: nothing claimed
