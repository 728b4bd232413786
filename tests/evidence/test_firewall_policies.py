"""Firewall policies and VPC firewall rules in Google's evaluation order
(https://cloud.google.com/firewall/docs/firewall-policies-rule-eval-order), worked by hand."""

from __future__ import annotations

from typing import Any

import pytest

from infradiag.evidence import (
    Evidence,
    FirewallEvidence,
    FirewallPolicyEvidence,
    FirewallPolicyRuleEvidence,
    FirewallPortRule,
    NetworkPoliciesEvidence,
)
from infradiag.evidence.firewall_order import evaluate
from infradiag.evidence.reachability import (
    Endpoint,
    Traffic,
    connector_endpoint,
    connector_reachability,
    with_derived,
)
from tests.evidence.network import CONNECTOR, CONNECTOR_ON_SUBNET, CONNECTOR_SUBNET, sql
from tests.evidence.network import egress_to_db as vpc

SQL = sql()
TO_DB = Traffic("vpc", "EGRESS", connector_endpoint(CONNECTOR, "10.8.0.0/28"), Endpoint("10.20.0.3/32"), 5432)
VM = Endpoint("10.0.0.5/32", frozenset({"web"}), frozenset({"vm@p.iam.gserviceaccount.com"}), frozenset())
PROBE = Traffic("vpc", "INGRESS", VM, Endpoint("35.191.0.0/16"), 80)


def prule(priority: int, action: str, direction: str = "EGRESS", **fields: Any) -> FirewallPolicyRuleEvidence:
    fields.setdefault("layer4_configs", [FirewallPortRule(protocol="all")])
    if direction == "EGRESS":
        fields.setdefault("dest_ip_ranges", ["0.0.0.0/0"])
    else:
        fields.setdefault("src_ip_ranges", ["0.0.0.0/0"])
    return FirewallPolicyRuleEvidence(priority=priority, action=action, direction=direction, **fields)


def policy(name: str, kind: str, *rules: FirewallPolicyRuleEvidence) -> FirewallPolicyEvidence:
    short = name if kind == "HIERARCHY" else None
    return FirewallPolicyEvidence(
        name=name if short is None else "8562", short_name=short, type=kind, rules=list(rules)
    )


def on_vpc(
    *policies: FirewallPolicyEvidence, order: str = "AFTER_CLASSIC_FIREWALL"
) -> NetworkPoliciesEvidence:
    return NetworkPoliciesEvidence(network="vpc", enforcement_order=order, policies=list(policies))


GOTO_NEXT = prule(2147483646, "goto_next")
ORG_DENY = policy(
    "org-policy",
    "HIERARCHY",
    prule(1000, "deny", layer4_configs=[FirewallPortRule(protocol="tcp", ports=["5432"])]),
    GOTO_NEXT,
)
ORG_ALLOW = policy("org-policy", "HIERARCHY", prule(1000, "allow"), GOTO_NEXT)
ORG_PASS = policy(
    "org-policy", "HIERARCHY", prule(1000, "goto_next", dest_ip_ranges=["10.20.0.3/32"]), prule(2000, "deny")
)
FOLDER_PASS = policy("folder-policy", "HIERARCHY", GOTO_NEXT)
NET_ALLOW = policy("net-policy", "NETWORK", prule(100, "allow", dest_ip_ranges=["10.20.0.3/32"]))
NET_DENY = policy("net-policy", "NETWORK", prule(100, "deny", dest_ip_ranges=["10.20.0.3/32"]))
VPC_ALLOW = vpc("allow-sql", "allow")
VPC_DENY = vpc("deny-sql", "deny")

# (case, VPC rules, policies, traffic, allowed, deciding text, layer)
CASES = [
    (
        "hierarchy deny is final over a VPC allow",
        [VPC_ALLOW],
        on_vpc(ORG_DENY),
        TO_DB,
        False,
        "policy org-policy rule 1000",
        "hierarchy",
    ),
    (
        "hierarchy allow is final over a VPC deny",
        [VPC_DENY],
        on_vpc(ORG_ALLOW),
        TO_DB,
        True,
        "policy org-policy rule 1000",
        "hierarchy",
    ),
    (
        "goto_next down the folders ends in the VPC rules",
        [VPC_DENY],
        on_vpc(ORG_PASS, FOLDER_PASS),
        TO_DB,
        False,
        "deny-sql",
        "vpc",
    ),
    (
        "goto_next chain with no VPC rule: implied allow egress",
        [],
        on_vpc(ORG_PASS, FOLDER_PASS),
        TO_DB,
        True,
        None,
        "implied",
    ),
    (
        "a lower rule after a non-matching goto_next denies",
        [VPC_ALLOW],
        on_vpc(
            policy(
                "org-policy",
                "HIERARCHY",
                prule(1000, "goto_next", dest_ip_ranges=["10.99.0.0/16"]),
                prule(2000, "deny"),
            )
        ),
        TO_DB,
        False,
        "policy org-policy rule 2000",
        "hierarchy",
    ),
    (
        "AFTER_CLASSIC_FIREWALL: the VPC deny decides before the network policy",
        [VPC_DENY],
        on_vpc(FOLDER_PASS, NET_ALLOW),
        TO_DB,
        False,
        "deny-sql",
        "vpc",
    ),
    (
        "BEFORE_CLASSIC_FIREWALL: the network policy allow decides first",
        [VPC_DENY],
        on_vpc(FOLDER_PASS, NET_ALLOW, order="BEFORE_CLASSIC_FIREWALL"),
        TO_DB,
        True,
        "policy net-policy rule 100",
        "network",
    ),
    (
        "AFTER_CLASSIC_FIREWALL: no VPC rule applies, the network policy deny decides",
        [],
        on_vpc(NET_DENY),
        TO_DB,
        False,
        "policy net-policy rule 100",
        "network",
    ),
    (
        "a disabled hierarchy deny is skipped",
        [VPC_ALLOW],
        on_vpc(policy("org-policy", "HIERARCHY", prule(1000, "deny", disabled=True))),
        TO_DB,
        True,
        "allow-sql",
        "vpc",
    ),
    (
        "a hierarchy deny on another port does not apply",
        [],
        on_vpc(
            policy(
                "org-policy",
                "HIERARCHY",
                prule(1000, "deny", layer4_configs=[FirewallPortRule(protocol="tcp", ports=["3306"])]),
            )
        ),
        TO_DB,
        True,
        None,
        "implied",
    ),
    (
        "a rule for another network (targetResources) does not apply",
        [],
        on_vpc(policy("org-policy", "HIERARCHY", prule(1000, "deny", target_resources=["other"]))),
        TO_DB,
        True,
        None,
        "implied",
    ),
    (
        "apply_security_profile_group admits the connection",
        [VPC_DENY],
        on_vpc(policy("org-policy", "HIERARCHY", prule(1000, "apply_security_profile_group"))),
        TO_DB,
        True,
        "policy org-policy rule 1000",
        "hierarchy",
    ),
    (
        "a regional policy comes after the global one",
        [],
        on_vpc(
            NET_ALLOW.model_copy(update={"rules": [prule(100, "goto_next")]}),
            policy("reg-policy", "NETWORK_REGIONAL", prule(5, "deny")),
        ),
        TO_DB,
        False,
        "policy reg-policy rule 5",
        "regional",
    ),
    (
        "probe ingress denied by a hierarchy rule",
        [],
        on_vpc(
            policy("org-policy", "HIERARCHY", prule(10, "deny", "INGRESS", src_ip_ranges=["35.191.0.0/16"]))
        ),
        PROBE,
        False,
        "policy org-policy rule 10",
        "hierarchy",
    ),
    (
        "a secure-tag target the VM does not carry does not apply",
        [],
        on_vpc(
            policy("net-policy", "NETWORK", prule(10, "allow", "INGRESS", target_secure_tags=["tagValues/1"]))
        ),
        PROBE,
        False,
        None,
        "implied",
    ),
]


@pytest.mark.parametrize(
    ("case", "firewalls", "policies", "traffic", "allowed", "text", "layer"), CASES, ids=[c[0] for c in CASES]
)
def test_evaluation_order(
    case: str,
    firewalls: list[FirewallEvidence],
    policies: NetworkPoliciesEvidence,
    traffic: Traffic,
    allowed: bool,
    text: str | None,
    layer: str,
) -> None:
    decision = evaluate(firewalls, policies, traffic)
    assert (decision.allowed, decision.text, decision.layer) == (allowed, text, layer)


UNDETERMINED = [
    ("FQDN destination", prule(1000, "deny", dest_ip_ranges=[], unevaluable=["destFqdns"]), "destFqdns"),
    (
        "address group destination",
        prule(1000, "allow", dest_ip_ranges=[], unevaluable=["destAddressGroups"]),
        "destAddressGroups",
    ),
    (
        "secure-tag target on a connector",
        prule(1000, "deny", target_secure_tags=["tagValues/77"]),
        "secure tags",
    ),
    (
        "service-account target on a connector",
        prule(1000, "deny", target_service_accounts=["sa@p.iam.gserviceaccount.com"]),
        "service accounts",
    ),
    ("network type narrowing", prule(1000, "deny", unevaluable=["destNetworkType"]), "destNetworkType"),
    ("an action this code does not know", prule(1000, "drop"), "action 'drop'"),
]


@pytest.mark.parametrize(("case", "rule", "why"), UNDETERMINED, ids=[c[0] for c in UNDETERMINED])
def test_rules_infradiag_cannot_evaluate_leave_the_verdict_undetermined(
    case: str, rule: FirewallPolicyRuleEvidence, why: str
) -> None:
    decision = evaluate([VPC_ALLOW], on_vpc(policy("org-policy", "HIERARCHY", rule)), TO_DB)
    assert decision.allowed is None
    assert why in (decision.undetermined or "") and "org-policy" in (decision.undetermined or "")


def test_an_unevaluable_source_is_irrelevant_when_its_ranges_already_match() -> None:
    # Destinations are alternatives: the range matches, so the FQDN does not matter.
    rule = prule(1000, "deny", dest_ip_ranges=["10.20.0.0/16"], unevaluable=["destFqdns"])
    decision = evaluate([], on_vpc(policy("org-policy", "HIERARCHY", rule)), TO_DB)
    assert decision.allowed is False


def test_unread_policies_leave_the_path_undetermined_and_add_an_unknown() -> None:
    evidence = Evidence.model_validate(
        {
            "project": "p",
            "region": "us-central1",
            "now": "2026-09-15T23:06:52Z",
            "connectors": [CONNECTOR.model_dump()],
            "sql_instances": [SQL.model_dump()],
            "firewalls": [VPC_ALLOW.model_dump()],
            "firewall_policies": [],  # read for no network: the read failed
        }
    )
    derived = with_derived(evidence)
    assert [p.allowed for p in derived.reachability] == [None]
    assert "could not be read" in (derived.reachability[0].undetermined or "")
    assert any(u.reason == "UNDETERMINED" and "conn" in u.consequence for u in derived.unknowns)


def test_a_hierarchy_deny_names_the_policy_in_the_path() -> None:
    [path] = connector_reachability([CONNECTOR], [VPC_ALLOW], [SQL], [on_vpc(ORG_DENY)])
    assert path.allowed is False
    assert (path.deciding_layer, path.deciding_policy, path.deciding_policy_id) == (
        "hierarchy",
        "org-policy",
        "8562",
    )
    assert path.deciding_policy_priority == 1000 and path.deciding_rule is None


def test_a_connector_on_a_subnet_takes_the_subnets_range() -> None:
    on_subnet = CONNECTOR_ON_SUBNET.model_copy(update={"network": None})
    deny_from_subnet = VPC_DENY.model_copy(update={"source_ranges": ["10.9.0.0/28"]})
    [path] = connector_reachability([on_subnet], [deny_from_subnet], [SQL], [on_vpc()], [CONNECTOR_SUBNET])
    assert (path.allowed, path.connector_range, path.deciding_rule) == (False, "10.9.0.0/28", "deny-sql")
    [unknown] = connector_reachability(
        [on_subnet.model_copy(update={"network": "vpc"})], [], [SQL], [on_vpc()], []
    )
    assert unknown.allowed is None and "conn-subnet" in (unknown.undetermined or "")


def _probe_walls(policies: list[NetworkPoliciesEvidence] | None) -> list[Any]:
    from infradiag.evidence.lbprobes import with_probes
    from tests.evidence.test_lb_probes import HC_ALLOW, check, service

    (derived,) = with_probes(
        [service()], [check(port_specification="USE_SERVING_PORT")], [HC_ALLOW], policies
    )
    return list(derived.probe_firewall)


def test_a_hierarchy_deny_blocks_the_probes_a_vpc_rule_admits_and_names_the_policy() -> None:
    deny = policy("org-policy", "HIERARCHY", prule(10, "deny", "INGRESS", src_ip_ranges=["35.191.0.0/16"]))
    (wall,) = _probe_walls([on_vpc(deny)])
    assert wall.allowed is False
    assert (wall.deciding_policy, wall.deciding_policy_id, wall.deciding_policy_type) == (
        "org-policy",
        "8562",
        "HIERARCHY",
    )
    assert (wall.deciding_rule, wall.deciding_priority, wall.fix_priority) == (
        "policy org-policy rule 10",
        10,
        9,
    )
    # Without policies (not collected) the VPC allow alone decides, as before.
    (before,) = _probe_walls(None)
    assert (before.allowed, before.deciding_rule) == (True, "allow-hc")


def test_a_policy_rule_on_secure_tags_leaves_the_probes_undetermined() -> None:
    tagged = policy("net-policy", "NETWORK", prule(10, "deny", "INGRESS", target_secure_tags=["tagValues/9"]))
    # Evaluated before the VPC allow (BEFORE_CLASSIC_FIREWALL); the instances' secure tags were not read.
    (wall,) = _probe_walls([on_vpc(tagged, order="BEFORE_CLASSIC_FIREWALL")])
    assert wall.allowed is None and "secure tags" in (wall.undetermined or "")
    assert wall.blocked_instances == []
    # With the default order the VPC allow decides first and the policy rule never matters.
    (after,) = _probe_walls([on_vpc(tagged)])
    assert (after.allowed, after.deciding_rule) == (True, "allow-hc")
