"""Writes the scenarios where firewall policies decide whether the connector reaches Cloud SQL: an
organization-level deny over a VPC allow, a network policy allow over a VPC deny (BEFORE_CLASSIC_FIREWALL), a
goto_next chain that ends in the VPC rules, and a rule on an FQDN that leaves the verdict undetermined.

Run from the repository root: `python scenarios/build/policy_cases.py` (rewrites
scenarios/*-firewall-policy-*.yaml). Evaluation order:
https://cloud.google.com/firewall/docs/firewall-policies-rule-eval-order.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from fleet import COMPUTE, NETWORK, Fleet, Scenarios, cause, expect_connector_firewall_blocked, expectation
from lb_cases import http_health_check, instance_group_backend, named_port

SCENARIOS = Scenarios("scenarios/build/policy_cases.py")
scenario = SCENARIOS.add
SQL_PORT = [{"ipProtocol": "tcp", "ports": ["5432"]}]


def rule(priority: int, action: str, **match: Any) -> dict[str, Any]:
    """An EGRESS FirewallPolicyRule as Compute returns it."""
    match.setdefault("layer4Configs", [{"ipProtocol": "all"}])
    return {
        "kind": "compute#firewallPolicyRule",
        "description": "",
        "priority": priority,
        "match": match,
        "action": action,
        "direction": "EGRESS",
    }


# Every firewall policy ends in default rules that pass what nothing else matched to the next level (as the
# captured getEffectiveFirewalls answer shows: priorities 2147483644..2147483647).
DEFAULT_EGRESS = rule(2147483646, "goto_next", destIpRanges=["0.0.0.0/0"])


def hierarchical(number: str, short: str, parent: str, *rules: dict[str, Any]) -> dict[str, Any]:
    """A hierarchical FirewallPolicy as firewallPolicies.get returns it."""
    return {
        "kind": "compute#firewallPolicy",
        "id": number,
        "name": number,
        "shortName": short,
        "displayName": short,
        "parent": parent,
        "selfLink": f"https://www.googleapis.com/compute/v1/locations/global/firewallPolicies/{number}",
        "rules": [*rules, DEFAULT_EGRESS],
    }


def vpc_allow_sql(f: Fleet) -> None:
    f.add_firewall(
        "allow-egress-sql",
        "EGRESS",
        100,
        allowed=[{"IPProtocol": "tcp", "ports": ["5432"]}],
        destinationRanges=["10.20.0.3/32"],
    )


@scenario
def org_deny_over_vpc_allow() -> Fleet:
    f = Fleet(
        "cause-vpc-connector-firewall-policy-org-deny",
        "The organization's firewall policy denies egress to Cloud SQL although a VPC rule allows it",
    )
    vpc_allow_sql(f)
    f.compute["hierarchicalFirewallPolicies"] = [
        hierarchical(
            "856256210981",
            "org-baseline",
            "organizations/4242",
            rule(1000, "deny", destIpRanges=["10.20.0.0/16"], layer4Configs=SQL_PORT),
        )
    ]
    expect_connector_firewall_blocked(f)
    return f


@scenario
def network_policy_allow_before_classic() -> Fleet:
    f = Fleet(
        "healthy-vpc-connector-firewall-policy-overrides-deny",
        "A network firewall policy evaluated before the VPC rules allows what a VPC rule denies",
    )
    f.deny_egress_to_sql()
    f.compute["networks"][0]["networkFirewallPolicyEnforcementOrder"] = "BEFORE_CLASSIC_FIREWALL"
    f.compute["networkFirewallPolicies"] = [
        {
            "kind": "compute#firewallPolicy",
            "id": "5551",
            "name": "staging-net-policy",
            "selfLink": f"{COMPUTE}/global/firewallPolicies/staging-net-policy",
            "associations": [{"name": "staging-vpc-assoc", "attachmentTarget": NETWORK}],
            "rules": [
                rule(100, "allow", destIpRanges=["10.20.0.3/32"], layer4Configs=SQL_PORT),
                DEFAULT_EGRESS,
            ],
        }
    ]
    f.expect = expectation("healthy", absent=["vpc_connector.firewall_blocked"])
    return f


@scenario
def goto_next_to_vpc_deny() -> Fleet:
    f = Fleet(
        "cause-vpc-connector-firewall-policy-goto-next",
        "Organization and folder policies pass egress on to the VPC rules, where a deny blocks Cloud SQL",
    )
    f.deny_egress_to_sql()
    f.compute["hierarchicalFirewallPolicies"] = [
        hierarchical(
            "856256210981",
            "org-baseline",
            "organizations/4242",
            rule(1000, "goto_next", destIpRanges=["10.0.0.0/8"]),
        ),
        hierarchical("203310830110", "staging-folder", "folders/77"),
    ]
    expect_connector_firewall_blocked(f, absent=["vpc_connector.saturated"])
    return f


@scenario
def fqdn_rule_undetermined() -> Fleet:
    f = Fleet(
        "unknown-vpc-connector-firewall-policy-fqdn",
        "A folder policy denies egress by FQDN and address group: whether it hits Cloud SQL cannot be told",
    )
    f.compute["hierarchicalFirewallPolicies"] = [
        hierarchical(
            "203310830110",
            "staging-folder",
            "folders/77",
            rule(
                500,
                "deny",
                destFqdns=["db.internal.acme.example"],
                destAddressGroups=["organizations/4242/locations/global/addressGroups/databases"],
            ),
        )
    ]
    f.expect = expectation("degraded", unknowns=["compute"], absent=["vpc_connector.firewall_blocked"])
    return f


@scenario
def org_deny_blocks_probes() -> Fleet:
    # staging-allow-health-checks admits the probe ranges on 8080, but the organization's policy, evaluated
    # first, denies them: the fix is a rule of that policy, for its owners.
    f = Fleet(
        "cause-lb-probes-blocked-firewall-policy",
        "The organization's firewall policy denies Google's health-check probes that a VPC rule admits",
    )
    resource = instance_group_backend(f, "legacy-api", named_port(), http_health_check())
    ingress_deny = rule(
        900, "deny", srcIpRanges=["35.191.0.0/16", "130.211.0.0/22"], layer4Configs=[{"ipProtocol": "tcp"}]
    )
    ingress_deny["direction"] = "INGRESS"
    f.compute["hierarchicalFirewallPolicies"] = [
        hierarchical("856256210981", "org-baseline", "organizations/4242", ingress_deny)
    ]
    f.expect = expectation("degraded", cause("lb.backend_unhealthy", "P1", resource))
    return f


if __name__ == "__main__":
    SCENARIOS.main()
