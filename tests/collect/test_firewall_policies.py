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


def test_a_rule_whose_target_secure_tags_are_all_ineffective_is_ignored_not_applied_to_all() -> None:
    """A deny tied to a deleted tag: Google ignores the rule; reading it without its tags would deny every
    instance's egress and report a block that does not exist."""
    dead_tag = {"name": "tagValues/281484836404786", "state": "INEFFECTIVE"}
    rule = {**egress(100, "deny", destIpRanges=["10.0.0.0/8"]), "targetSecureTags": [dead_tag]}
    evidence = gather(hierarchicalFirewallPolicies=[org_policy(rule)])
    assert evidence.reachability and all(p.allowed is True for p in evidence.reachability)


def test_a_rule_keeps_applying_while_one_of_its_target_secure_tags_is_effective() -> None:
    tags = [
        {"name": "tagValues/281484836404786", "state": "INEFFECTIVE"},
        {"name": "tagValues/281484836404787", "state": "EFFECTIVE"},
    ]
    rule = {**egress(100, "deny", destIpRanges=["10.0.0.0/8"]), "targetSecureTags": tags}
    evidence = gather(hierarchicalFirewallPolicies=[org_policy(rule)])
    # The connector's own secure tags are unknown to infradiag: the live tag may or may not be on it.
    assert evidence.reachability and all(p.allowed is None for p in evidence.reachability)


def test_an_ingress_rule_from_only_ineffective_source_tags_is_ignored_unless_it_has_source_ranges() -> None:
    from google.cloud import compute_v1

    from infradiag.collect.firewall_policies import rule_evidence

    dead = compute_v1.FirewallPolicyRuleSecureTag(name="tagValues/281484836404786", state="INEFFECTIVE")

    def ingress_deny(**match: Any) -> Any:
        return compute_v1.FirewallPolicyRule(
            priority=100,
            action="deny",
            direction="INGRESS",
            match=compute_v1.FirewallPolicyRuleMatcher(src_secure_tags=[dead], **match),
        )

    assert rule_evidence(ingress_deny()).disabled is True
    kept = rule_evidence(ingress_deny(src_ip_ranges=["35.191.0.0/16"]))
    assert (kept.disabled, kept.src_secure_tags, kept.src_ip_ranges) == (False, [], ["35.191.0.0/16"])
