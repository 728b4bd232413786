"""Whether one firewall policy rule governs a connection, and the order of the policy layers, as the
FirewallPolicyRule REST reference and https://cloud.google.com/firewall/docs/firewall-policies-rule-eval-order
document them (infradiag/evidence/firewall_order.py), worked by hand. A match infradiag cannot tell is the
reason why, never True or False."""

from __future__ import annotations

from typing import Any

import pytest

from infradiag.evidence import (
    FirewallEvidence,
    FirewallPolicyEvidence,
    FirewallPolicyRuleEvidence,
    FirewallPortRule,
    NetworkPoliciesEvidence,
)
from infradiag.evidence.firewall_order import Decision, Match, evaluate, policy_rule_matches
from infradiag.evidence.reachability import Endpoint, Traffic, connector_endpoint
from tests.evidence.network import CONNECTOR

DB = Endpoint("10.20.0.3/32")
# A backend VM whose service account and secure tags are known (ingress is enforced on it).
VM = Endpoint(
    "10.0.0.5/32",
    frozenset({"web"}),
    frozenset({"vm@p.iam.gserviceaccount.com"}),
    secure_tags=frozenset({"tagValues/1"}),
)
ALL = [FirewallPortRule(protocol="all")]


def to_db() -> Traffic:
    return Traffic("vpc", "EGRESS", connector_endpoint(CONNECTOR, "10.8.0.0/28"), DB, 5432)


def into_vm(peer: Endpoint) -> Traffic:
    return Traffic("vpc", "INGRESS", VM, peer, 80)


def egress(**fields: Any) -> FirewallPolicyRuleEvidence:
    fields.setdefault("layer4_configs", ALL)
    return FirewallPolicyRuleEvidence(priority=10, action="deny", direction="EGRESS", **fields)


def ingress(**fields: Any) -> FirewallPolicyRuleEvidence:
    fields.setdefault("layer4_configs", ALL)
    return FirewallPolicyRuleEvidence(priority=10, action="deny", direction="INGRESS", **fields)


def tcp(*ports: str) -> FirewallPortRule:
    return FirewallPortRule(protocol="tcp", ports=list(ports))


SAS = ["a@p.iam.gserviceaccount.com", "b@p.iam.gserviceaccount.com"]

EGRESS_CASES: list[Any] = [
    pytest.param(egress(), True, id="no-destination-named-matches-any"),
    pytest.param(egress(dest_ip_ranges=["10.20.0.7/16"]), True, id="destination-range-with-host-bits"),
    pytest.param(egress(dest_ip_ranges=["10.21.0.0/16"]), False, id="destination-range-elsewhere"),
    pytest.param(egress(src_ip_ranges=["10.8.0.0/28"]), True, id="source-range-of-the-sender"),
    pytest.param(egress(src_ip_ranges=["10.9.0.0/24"]), False, id="source-range-narrows-out-the-sender"),
    pytest.param(egress(layer4_configs=[]), True, id="no-layer4-config-any-protocol"),
    pytest.param(
        egress(layer4_configs=[FirewallPortRule(protocol="udp", ports=["5432"]), tcp("5432")]),
        True,
        id="second-layer4-config-matches",
    ),
    pytest.param(egress(layer4_configs=[tcp("5000-6000")]), True, id="port-range-covers-port"),
    pytest.param(egress(layer4_configs=[tcp("22", "3306")]), False, id="ports-miss-port"),
    pytest.param(
        egress(layer4_configs=[FirewallPortRule(protocol="6")]), True, id="protocol-number-6-is-tcp"
    ),
    pytest.param(
        egress(unevaluable=["destFqdns", "destRegionCodes"]),
        "it matches on destFqdns, destRegionCodes, which infradiag cannot evaluate",
        id="only-unevaluable-destinations",
    ),
    pytest.param(
        egress(dest_ip_ranges=["0.0.0.0/0"], unevaluable=["destNetworkType", "destNetworkContext"]),
        "it matches on destNetworkType, destNetworkContext, which infradiag cannot evaluate",
        id="unevaluable-narrowing",
    ),
    pytest.param(
        egress(target_service_accounts=SAS),
        f"it targets service accounts ({SAS[0]}, {SAS[1]}), and whether they select the instance is unknown",
        id="service-account-target-on-a-connector",
    ),
    pytest.param(
        egress(target_secure_tags=["tagValues/1", "tagValues/2"]),
        "it targets secure tags (tagValues/1, tagValues/2), and the instance's are unknown",
        id="secure-tag-target-on-a-connector",
    ),
    pytest.param(
        egress(target_secure_tags=["tagValues/1"], layer4_configs=[tcp("3306")]),
        False,
        id="unknown-target-but-other-port",
    ),
]


@pytest.mark.parametrize(("rule", "expected"), EGRESS_CASES)
def test_an_egress_rule_from_a_connector(rule: FirewallPolicyRuleEvidence, expected: Match) -> None:
    assert policy_rule_matches(rule, to_db()) == expected


def test_a_sender_range_written_with_host_bits_stands_for_its_network() -> None:
    sender = Endpoint("10.8.0.7/28", frozenset({"vpc-connector"}))
    traffic = Traffic("vpc", "EGRESS", sender, DB, 5432)
    assert policy_rule_matches(egress(src_ip_ranges=["10.8.0.0/28"]), traffic) is True


PROBE = Endpoint("35.191.0.0/16", secure_tags=frozenset())  # Google's probes carry no secure tag
TAGGED = Endpoint("10.0.0.9/32", secure_tags=frozenset({"tagValues/5"}))
UNREAD_TAGS = Endpoint("10.0.0.9/32", secure_tags=None)

INGRESS_CASES: list[Any] = [
    pytest.param(ingress(), PROBE, True, id="no-source-named-matches-any"),
    pytest.param(ingress(src_ip_ranges=["35.191.0.0/16"]), PROBE, True, id="source-range-covers-peer"),
    pytest.param(ingress(src_ip_ranges=["10.9.0.0/24"]), PROBE, False, id="source-range-elsewhere"),
    pytest.param(
        ingress(src_ip_ranges=["10.9.0.0/24"], unevaluable=["srcFqdns"]),
        PROBE,
        "it matches on srcFqdns, which infradiag cannot evaluate",
        id="range-misses-but-fqdn-may-match",
    ),
    pytest.param(
        ingress(src_ip_ranges=["35.191.0.0/16"], unevaluable=["srcFqdns"]),
        PROBE,
        True,
        id="range-matches-fqdn-irrelevant",
    ),
    pytest.param(ingress(src_secure_tags=["tagValues/5"]), TAGGED, True, id="source-secure-tag-of-peer"),
    pytest.param(ingress(src_secure_tags=["tagValues/6"]), TAGGED, False, id="source-secure-tag-not-peers"),
    pytest.param(
        ingress(src_secure_tags=["tagValues/5"]), PROBE, False, id="source-secure-tag-not-on-probes"
    ),
    pytest.param(
        ingress(src_secure_tags=["tagValues/5", "tagValues/6"]),
        UNREAD_TAGS,
        "it matches sources by secure tags (tagValues/5, tagValues/6), which were not read",
        id="source-secure-tags-of-unread-peer",
    ),
    pytest.param(
        ingress(dest_ip_ranges=["10.0.0.0/24"]), PROBE, True, id="destination-range-covers-receiver"
    ),
    pytest.param(ingress(dest_ip_ranges=["10.1.0.0/16"]), PROBE, False, id="destination-range-narrows-out"),
    pytest.param(
        ingress(target_service_accounts=["vm@p.iam.gserviceaccount.com"]),
        PROBE,
        True,
        id="target-service-account-of-receiver",
    ),
    pytest.param(ingress(target_service_accounts=SAS), PROBE, False, id="target-other-service-accounts"),
    pytest.param(
        ingress(target_secure_tags=["tagValues/1"]), PROBE, True, id="target-secure-tag-of-receiver"
    ),
    pytest.param(ingress(target_secure_tags=["tagValues/2"]), PROBE, False, id="target-other-secure-tag"),
    pytest.param(ingress(target_resources=["vpc"]), PROBE, True, id="target-network"),
    pytest.param(ingress(target_resources=["other"]), PROBE, False, id="target-other-network"),
]


@pytest.mark.parametrize(("rule", "peer", "expected"), INGRESS_CASES)
def test_an_ingress_rule_to_a_vm(rule: FirewallPolicyRuleEvidence, peer: Endpoint, expected: Match) -> None:
    assert policy_rule_matches(rule, into_vm(peer)) == expected


# --- The order of the layers ---------------------------------------------------------------------------


def policy(name: str, kind: str, *rules: FirewallPolicyRuleEvidence) -> FirewallPolicyEvidence:
    return FirewallPolicyEvidence(name=name, type=kind, rules=list(rules))


def on_vpc(
    *policies: FirewallPolicyEvidence, order: str = "AFTER_CLASSIC_FIREWALL"
) -> NetworkPoliciesEvidence:
    return NetworkPoliciesEvidence(network="vpc", enforcement_order=order, policies=list(policies))


VPC_ALLOW = FirewallEvidence(
    name="allow-sql",
    network="vpc",
    direction="EGRESS",
    priority=1000,
    action="allow",
    rules=[tcp("5432")],
    destination_ranges=["10.20.0.0/16"],
)
DENY = egress()
ALLOW = egress().model_copy(update={"action": "allow"})
GOTO_NEXT = egress().model_copy(update={"action": "goto_next"})


def test_before_classic_firewall_moves_only_the_network_policies_ahead_of_the_vpc_rules() -> None:
    org = policy("org", "HIERARCHY", DENY)
    net = policy("net", "NETWORK", ALLOW)
    decision = evaluate([VPC_ALLOW], on_vpc(net, org, order="BEFORE_CLASSIC_FIREWALL"), to_db())
    assert decision == Decision(False, "hierarchy", policy=org, policy_rule=DENY)


@pytest.mark.parametrize("kind", ["SYSTEM_GLOBAL", "SYSTEM_REGIONAL"])
def test_a_system_policy_decides_after_the_hierarchy_and_before_the_vpc_rules(kind: str) -> None:
    system = policy("sys", kind, DENY)
    passing = policy("org", "HIERARCHY", GOTO_NEXT)
    assert evaluate([VPC_ALLOW], on_vpc(system, passing), to_db()) == Decision(
        False, "system", policy=system, policy_rule=DENY
    )
    allowing = policy("org", "HIERARCHY", ALLOW)
    assert evaluate([VPC_ALLOW], on_vpc(system, allowing), to_db()).layer == "hierarchy"


def test_a_policy_of_a_type_this_code_does_not_know_leaves_the_verdict_undetermined() -> None:
    known = policy("net", "NETWORK", GOTO_NEXT)
    unknown = [policy("fw-a", "FUTURE_KIND", ALLOW), policy("fw-b", "OTHER_KIND", ALLOW)]
    assert evaluate([VPC_ALLOW], on_vpc(known, *unknown), to_db()) == Decision(
        None,
        "unknown",
        undetermined="firewall policies of unknown type in effect: fw-a (FUTURE_KIND), fw-b (OTHER_KIND)",
    )


def test_unread_policies_leave_the_verdict_undetermined_even_with_a_vpc_allow() -> None:
    assert evaluate([VPC_ALLOW], None, to_db()) == Decision(
        None, "unknown", undetermined="the firewall policies in effect on network vpc could not be read"
    )


@pytest.mark.parametrize(
    ("rule", "why"),
    [
        (
            egress(unevaluable=["destFqdns"]),
            "rule 10 of firewall policy net may apply: it matches on destFqdns, "
            "which infradiag cannot evaluate",
        ),
        (
            egress().model_copy(update={"action": "mirror"}),
            "rule 10 of firewall policy net has action 'mirror'",
        ),
    ],
    ids=["unevaluable-match", "unknown-action"],
)
def test_an_undetermined_verdict_names_the_policy_and_rule_it_stopped_at(
    rule: FirewallPolicyRuleEvidence, why: str
) -> None:
    net = policy("net", "NETWORK_REGIONAL", rule)
    assert evaluate([], on_vpc(net), to_db()) == Decision(
        None, "regional", policy=net, policy_rule=rule, undetermined=why
    )
