"""The firewall policies in effect, read from the twin through the whole gathering, and what an unreadable or
unevaluable policy leaves: an undetermined path and an unknown, never a reachable one."""

from __future__ import annotations

from typing import Any

from infradiag.evidence import Evidence
from infradiag.twin.scenario import Scenario
from tests.collect.fleet import fleet
from tests.collect.gather import gather as gather_from_twin


def gather(faults: list[dict[str, Any]] | None = None, **compute_extra: Any) -> Evidence:
    """The derived evidence (with_derived already applied by the gathering) of the collect fleet plus
    `compute_extra` collections."""
    data = fleet(2)
    data["compute"].update(compute_extra)
    if faults:
        data["apiFaults"] = faults
    evidence, _ = gather_from_twin(Scenario.model_validate(data))
    return evidence


def org_policy(*rules: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": "856256210981",
        "shortName": "org-baseline",
        "parent": "organizations/4242",
        "rules": list(rules),
    }


def egress(priority: int, action: str, **match: Any) -> dict[str, Any]:
    return {
        "priority": priority,
        "action": action,
        "direction": "EGRESS",
        "match": {"layer4Configs": [{"ipProtocol": "tcp", "ports": ["5432"]}], **match},
    }


def test_an_organization_deny_blocks_every_path_and_is_named() -> None:
    evidence = gather(
        hierarchicalFirewallPolicies=[org_policy(egress(100, "deny", destIpRanges=["10.0.0.0/8"]))]
    )
    (policies,) = evidence.firewall_policies or []
    assert policies.network == "staging-vpc" and policies.policies[0].short_name == "org-baseline"
    assert evidence.reachability and all(p.allowed is False for p in evidence.reachability)
    assert {p.deciding_text for p in evidence.reachability} == {"policy org-baseline rule 100"}


def test_unreadable_policies_leave_paths_undetermined_with_one_unknown() -> None:
    fault = {"api": "compute", "method": "networks.getEffectiveFirewalls", "error": "PERMISSION_DENIED"}
    evidence = gather([fault])
    assert evidence.firewall_policies == []
    assert evidence.reachability and all(p.allowed is None for p in evidence.reachability)
    (unknown,) = evidence.unknowns
    assert (unknown.source, unknown.reason) == ("compute", "PERMISSION_DENIED")
    assert "firewall policies in effect could not be read" in unknown.consequence
    assert "roles/compute.networkViewer" in unknown.fix


def test_an_fqdn_rule_makes_the_paths_an_unknown() -> None:
    rule = egress(100, "deny", destFqdns=["db.internal.example"])
    evidence = gather(hierarchicalFirewallPolicies=[org_policy(rule)])
    assert all(p.allowed is None and "destFqdns" in (p.undetermined or "") for p in evidence.reachability)
    assert any(u.reason == "UNDETERMINED" and "destFqdns" in u.detail for u in evidence.unknowns)


def test_unreadable_vpc_rules_leave_paths_undetermined_not_reachable() -> None:
    """With firewalls.list refused, an empty rule list would let the implied allow-all egress decide: a false
    pass. The path is undetermined instead, and the refused read's own Unknown says what to grant."""
    fault = {"api": "compute", "method": "firewalls.list", "error": "PERMISSION_DENIED"}
    evidence = gather([fault])
    assert "firewalls" not in evidence.checked
    assert evidence.reachability and all(p.allowed is None for p in evidence.reachability)
    assert {p.undetermined for p in evidence.reachability} == {"the VPC firewall rules could not be read"}
    (unknown,) = evidence.unknowns
    assert (unknown.source, unknown.reason) == ("compute", "PERMISSION_DENIED")
    assert "firewall rules could not be read" in unknown.consequence
