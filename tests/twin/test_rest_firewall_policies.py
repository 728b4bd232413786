"""getEffectiveFirewalls on the twin (networks and regionNetworkFirewallPolicies), through
google-cloud-compute, and the collector that reads it.

The served shape is compared with a real answer of networks.getEffectiveFirewalls (gcpdiag's capture,
test-data/fw-policy/json-dumps/compute-effective-firewalls-default.json): `firewalls` (Firewall resources) and
`firewallPolicys`, each with `name` (a numeric id for hierarchical policies), `type` (HIERARCHY...),
`shortName`, `displayName` and `rules`.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests
from google.api_core import exceptions
from google.cloud import compute_v1

from infradiag.collect.firewall_policies import read_network_policies
from infradiag.errors import UsageError
from infradiag.evidence import NetworkPoliciesEvidence
from infradiag.twin.server import Twin
from tests.twin.rest_twin import COMPUTE, PROJECT, calls, rest_kwargs, scenario, serve

NETWORK = f"{COMPUTE}/global/networks/staging-vpc"
L4_ALL = [{"ipProtocol": "all"}]


def hierarchical(number: str, short: str, *rules: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": "compute#firewallPolicy",
        "name": number,
        "shortName": short,
        "displayName": short,
        "parent": "organizations/4242" if short.startswith("org") else "folders/77",
        "rules": list(rules),
    }


def rule(priority: int, action: str, direction: str = "EGRESS", **match: Any) -> dict[str, Any]:
    return {
        "kind": "compute#firewallPolicyRule",
        "priority": priority,
        "action": action,
        "direction": direction,
        "match": {"layer4Configs": L4_ALL, **match},
    }


def network_policy(name: str, region: str | None = None, order: int = 1000) -> dict[str, Any]:
    policy: dict[str, Any] = {
        "kind": "compute#firewallPolicy",
        "name": name,
        "associations": [{"name": f"{name}-assoc", "attachmentTarget": NETWORK}],
        "rules": [rule(order, "allow", destIpRanges=["10.20.0.3/32"])],
    }
    if region:
        policy["region"] = f"{COMPUTE}/regions/{region}"
    return policy


SECTION: dict[str, Any] = {
    "networks": [
        {
            "selfLink": NETWORK,
            "name": "staging-vpc",
            "networkFirewallPolicyEnforcementOrder": "BEFORE_CLASSIC_FIREWALL",
        },
        {"name": "other"},
    ],
    "firewalls": [
        {
            "name": "deny-sql",
            "network": NETWORK,
            "direction": "EGRESS",
            "priority": 900,
            "denied": [{"IPProtocol": "tcp", "ports": ["5432"]}],
        },
        {
            "name": "elsewhere",
            "network": f"{COMPUTE}/global/networks/other",
            "allowed": [{"IPProtocol": "tcp"}],
        },
    ],
    "hierarchicalFirewallPolicies": [
        hierarchical("856256210981", "org-policy", rule(1000, "goto_next", destIpRanges=["10.20.0.0/16"])),
        hierarchical(
            "203310830110", "folder-policy", rule(2147483646, "goto_next", destIpRanges=["0.0.0.0/0"])
        ),
    ],
    "networkFirewallPolicies": [network_policy("net-policy")],
    "regionNetworkFirewallPolicies": [
        network_policy("reg-policy", "us-central1", 5),
        network_policy("eu-policy", "europe-west1"),
    ],
}

# The keys of a real EffectiveFirewallPolicy (gcpdiag's capture, see the module docstring).
CAPTURED_POLICY_KEYS = {"name", "type", "shortName", "displayName", "rules"}


def policies_of_staging_vpc(twin: Twin) -> NetworkPoliciesEvidence:
    """What the collector reads of the firewall policies in effect on staging-vpc in us-central1."""
    kwargs = rest_kwargs(twin)
    return read_network_policies(
        compute_v1.NetworksClient(**kwargs),
        compute_v1.RegionNetworkFirewallPoliciesClient(**kwargs),
        PROJECT,
        "staging-vpc",
        "us-central1",
        10.0,
    )


def test_network_effective_firewalls_has_the_captured_shape() -> None:
    with serve(scenario(compute=SECTION)) as twin:
        assert twin.addresses is not None
        path = f"compute/v1/projects/{PROJECT}/global/networks/staging-vpc/getEffectiveFirewalls"
        url = f"{twin.addresses.rest}/{path}"
        body = requests.get(url, timeout=10).json()
    assert list(body) == ["firewalls", "firewallPolicys"]
    assert [f["name"] for f in body["firewalls"]] == ["deny-sql"]
    policies = body["firewallPolicys"]
    # Hierarchy in ancestry order, then the global network policy; regional ones are not in this answer.
    assert [(p["name"], p["type"]) for p in policies] == [
        ("856256210981", "HIERARCHY"),
        ("203310830110", "HIERARCHY"),
        ("net-policy", "NETWORK"),
    ]
    assert policies[0]["shortName"] == "org-policy"
    assert all(set(p) <= CAPTURED_POLICY_KEYS for p in policies)
    assert policies[0]["rules"][0]["kind"] == "compute#firewallPolicyRule"


def test_regional_effective_firewalls_adds_the_regions_policies() -> None:
    with serve(scenario(compute=SECTION)) as twin:
        client = compute_v1.RegionNetworkFirewallPoliciesClient(**rest_kwargs(twin))
        answer = client.get_effective_firewalls(project=PROJECT, region="us-central1", network=NETWORK)
        with pytest.raises(exceptions.NotFound):
            compute_v1.NetworksClient(**rest_kwargs(twin)).get_effective_firewalls(
                project=PROJECT, network="absent"
            )
        logged = calls(twin, "regionNetworkFirewallPolicies.getEffectiveFirewalls")
    assert [(p.name, p.type_) for p in answer.firewall_policys][-1] == ("reg-policy", "NETWORK_REGIONAL")
    assert "eu-policy" not in [p.name for p in answer.firewall_policys]
    assert logged and not logged[0].mutating


def test_the_collector_reads_policies_in_order_with_the_enforcement_order() -> None:
    with serve(scenario(compute=SECTION)) as twin:
        found = policies_of_staging_vpc(twin)
    assert found.enforcement_order == "BEFORE_CLASSIC_FIREWALL"
    assert [(p.short_name or p.name, p.type) for p in found.policies] == [
        ("org-policy", "HIERARCHY"),
        ("folder-policy", "HIERARCHY"),
        ("net-policy", "NETWORK"),
        ("reg-policy", "NETWORK_REGIONAL"),
    ]
    assert found.policies[3].region == "us-central1"
    org_rule = found.policies[0].rules[0]
    assert (org_rule.action, org_rule.dest_ip_ranges, org_rule.layer4_configs[0].protocol) == (
        "goto_next",
        ["10.20.0.0/16"],
        "all",
    )


def test_the_collector_names_match_fields_it_cannot_evaluate() -> None:
    fqdn = hierarchical(
        "1", "org-policy", rule(10, "deny", destFqdns=["db.example.com"], destAddressGroups=["g"])
    )
    with serve(
        scenario(compute={"networks": SECTION["networks"], "hierarchicalFirewallPolicies": [fqdn]})
    ) as twin:
        found = policies_of_staging_vpc(twin)
        # No network firewall policy in effect: the enforcement order is not read.
        assert not calls(twin, "networks.get")
    assert found.policies[0].rules[0].unevaluable == ["destFqdns", "destAddressGroups"]


def test_a_hierarchical_policy_needs_its_numeric_name(tmp_path: Any) -> None:
    from infradiag.twin.scenario import load_scenario

    text = (
        "apiVersion: infradiag/twin-v1\nname: bad\nproject: acme-staging\nregion: us-central1\n"
        "now: 2026-09-15T23:06:52Z\ncompute:\n  hierarchicalFirewallPolicies:\n"
        "    - {name: org-policy, shortName: org-policy}\n"
    )
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(UsageError, match="numeric id"):
        load_scenario(path)
