"""Firewall evaluation as https://cloud.google.com/firewall/docs/firewalls describes it, worked by hand."""

from __future__ import annotations

from typing import Any

import pytest

from infradiag.evidence import (
    FirewallEvidence,
    FirewallPortRule,
    SubnetEvidence,
)
from infradiag.evidence.reachability import (
    Endpoint,
    Traffic,
    connector_endpoint,
    connector_reachability,
    connector_source,
    decide,
)
from tests.evidence.network import CONNECTOR, sql

# The connector's instances: 10.8.0.0/28, tags vpc-connector and vpc-connector-us-central1-conn.
FROM_CONNECTOR = connector_endpoint(CONNECTOR, "10.8.0.0/28")
DB = Endpoint("10.20.0.3/32")
# A VM of the network that receives from the connector (ingress is enforced on it).
VM = Endpoint("10.0.0.5/32", frozenset({"db"}), frozenset({"db@p.iam.gserviceaccount.com"}))
SA = "app@p.iam.gserviceaccount.com"


def rule(
    name: str,
    action: str,
    priority: int = 1000,
    *,
    ports: list[str] | None = None,
    direction: str = "EGRESS",
    protocol: str = "tcp",
    **fields: Any,
) -> FirewallEvidence:
    return FirewallEvidence(
        name=name,
        network=str(fields.pop("network", "vpc")),
        direction=direction,
        priority=priority,
        action=action,
        rules=[FirewallPortRule(protocol=protocol, ports=ports or [])],
        **fields,
    )


DENY_ALL = rule("deny-all-egress", "deny", 50, protocol="all", destination_ranges=["0.0.0.0/0"])
BLOCKED_BY_DENY = (False, "deny")
UNTOUCHED = (True, None)

# Egress from the connector's instances to 10.20.0.3:5432/tcp.
EGRESS_CASES = [
    pytest.param([], UNTOUCHED, id="no-rule-implied-allow-egress"),
    pytest.param(
        [rule("deny", "deny", destination_ranges=["10.20.0.0/16"])],
        BLOCKED_BY_DENY,
        id="untargeted-deny-applies-to-all-instances",
    ),
    pytest.param(
        [rule("deny", "deny", target_tags=["vpc-connector"])],
        BLOCKED_BY_DENY,
        id="target-universal-connector-tag-applies",
    ),
    pytest.param(
        [rule("deny", "deny", target_tags=["web", "vpc-connector-us-central1-conn"])],
        BLOCKED_BY_DENY,
        id="target-unique-connector-tag-applies",
    ),
    pytest.param(
        [rule("deny", "deny", target_tags=["vpc-connector-us-central1-other"])],
        UNTOUCHED,
        id="target-another-connectors-tag-ignored",
    ),
    pytest.param(
        [rule("deny", "deny", target_tags=["vpc-connector-us-east1-conn"])],
        UNTOUCHED,
        id="target-same-name-other-region-tag-ignored",
    ),
    pytest.param([rule("deny", "deny", target_tags=["bar"])], UNTOUCHED, id="target-other-tag-ignored"),
    pytest.param(
        [rule("deny", "deny", target_service_accounts=[SA])], UNTOUCHED, id="target-service-account-ignored"
    ),
    pytest.param(
        [rule("deny", "deny"), rule("allow-sa", "allow", 900, target_service_accounts=[SA])],
        BLOCKED_BY_DENY,
        id="allow-targeting-service-account-does-not-unblock",
    ),
    pytest.param(
        [rule("deny", "deny", 1000), rule("allow", "allow", 900, ports=["5432"])],
        (True, "allow"),
        id="lower-number-wins-allow",
    ),
    pytest.param(
        [rule("allow", "allow", 100), rule("deny", "deny", 99)], BLOCKED_BY_DENY, id="lower-number-wins-deny"
    ),
    pytest.param(
        [rule("allow", "allow", 500), rule("deny", "deny", 500)],
        BLOCKED_BY_DENY,
        id="priority-tie-deny-over-allow",
    ),
    pytest.param(
        [rule("deny", "deny", 500), rule("allow", "allow", 500)],
        BLOCKED_BY_DENY,
        id="priority-tie-deny-over-allow-any-order",
    ),
    pytest.param([rule("deny", "deny", disabled=True)], UNTOUCHED, id="disabled-deny-ignored"),
    pytest.param(
        [rule("deny", "deny"), rule("allow", "allow", 10, disabled=True)],
        BLOCKED_BY_DENY,
        id="disabled-allow-ignored",
    ),
    pytest.param(
        [rule("deny", "deny", direction="INGRESS")], UNTOUCHED, id="ingress-deny-does-not-govern-egress"
    ),
    pytest.param([rule("deny", "deny", network="other")], UNTOUCHED, id="other-network-ignored"),
    pytest.param(
        [rule("deny", "deny", destination_ranges=["192.168.0.0/16"])],
        UNTOUCHED,
        id="destination-range-without-target-ignored",
    ),
    pytest.param(
        [rule("deny", "deny", destination_ranges=["10.20.0.3/32"])],
        BLOCKED_BY_DENY,
        id="destination-range-with-target-applies",
    ),
    pytest.param(
        [rule("deny", "deny", destination_ranges=["::/0"])],
        UNTOUCHED,
        id="ipv6-destination-range-leaves-ipv4-target-alone",
    ),
    pytest.param(
        [rule("deny", "deny", source_ranges=["10.9.0.0/24"])],
        UNTOUCHED,
        id="egress-source-range-without-connector-ignored",
    ),
    pytest.param([rule("deny", "deny", ports=["3306"])], UNTOUCHED, id="other-port-ignored"),
    pytest.param(
        [rule("deny", "deny", ports=["5000-6000"])], BLOCKED_BY_DENY, id="port-range-covering-port-applies"
    ),
    pytest.param(
        [rule("deny", "deny", ports=["22", "5432"])], BLOCKED_BY_DENY, id="port-list-covering-port-applies"
    ),
    pytest.param([rule("deny", "deny", protocol="udp")], UNTOUCHED, id="other-protocol-ignored"),
    pytest.param([rule("deny", "deny", protocol="all")], BLOCKED_BY_DENY, id="protocol-all-applies"),
    pytest.param([rule("deny", "deny", protocol="6")], BLOCKED_BY_DENY, id="protocol-number-6-is-tcp"),
    pytest.param(
        [rule("allow-bar", "allow", 45, protocol="all", target_tags=["bar"]), DENY_ALL],
        (False, "deny-all-egress"),
        id="masking-allow-p45-tag-bar-over-untargeted-deny-p50-blocked",
    ),
    pytest.param(
        [rule("allow-conn", "allow", 45, protocol="all", target_tags=["vpc-connector"]), DENY_ALL],
        (True, "allow-conn"),
        id="allow-p45-tag-vpc-connector-over-deny-p50-allowed",
    ),
]


@pytest.mark.parametrize(("firewalls", "expected"), EGRESS_CASES)
def test_connector_egress(firewalls: list[FirewallEvidence], expected: tuple[bool, str | None]) -> None:
    assert decide(firewalls, Traffic("vpc", "EGRESS", FROM_CONNECTOR, DB, 5432)) == expected


ALLOWED_BY_ALLOW = (True, "allow")
IMPLIED_DENY = (False, None)

# Ingress to a VM of the network (tag db, service account db@) from the connector on 5432/tcp.
INGRESS_CASES = [
    pytest.param([], IMPLIED_DENY, id="no-rule-implied-deny-ingress"),
    pytest.param(
        [rule("allow", "allow", direction="INGRESS")], ALLOWED_BY_ALLOW, id="no-source-means-any-source"
    ),
    pytest.param(
        [rule("allow", "allow", direction="INGRESS", source_ranges=["10.8.0.0/28"])],
        ALLOWED_BY_ALLOW,
        id="source-range-of-connector-applies",
    ),
    pytest.param(
        [rule("allow", "allow", direction="INGRESS", source_ranges=["10.9.0.0/24"])],
        IMPLIED_DENY,
        id="source-range-elsewhere-ignored",
    ),
    pytest.param(
        [rule("allow", "allow", direction="INGRESS", source_tags=["vpc-connector"])],
        ALLOWED_BY_ALLOW,
        id="source-universal-connector-tag-applies",
    ),
    pytest.param(
        [rule("allow", "allow", direction="INGRESS", source_tags=["vpc-connector-us-central1-conn"])],
        ALLOWED_BY_ALLOW,
        id="source-unique-connector-tag-applies",
    ),
    pytest.param(
        [rule("allow", "allow", direction="INGRESS", source_tags=["bar"])],
        IMPLIED_DENY,
        id="source-other-tag-ignored",
    ),
    pytest.param(
        [rule("allow", "allow", direction="INGRESS", source_service_accounts=[SA])],
        IMPLIED_DENY,
        id="source-service-account-never-the-connector",
    ),
    pytest.param(
        [rule("allow", "allow", direction="INGRESS", source_tags=["bar"], source_ranges=["10.8.0.0/28"])],
        ALLOWED_BY_ALLOW,
        id="source-tags-or-ranges-either-matches",
    ),
    pytest.param(
        [rule("allow", "allow", direction="INGRESS", target_tags=["db"])],
        ALLOWED_BY_ALLOW,
        id="target-tag-of-receiver-applies",
    ),
    pytest.param(
        [rule("allow", "allow", direction="INGRESS", target_tags=["web"])],
        IMPLIED_DENY,
        id="target-other-tag-ignored",
    ),
    pytest.param(
        [
            rule(
                "allow",
                "allow",
                direction="INGRESS",
                target_service_accounts=["db@p.iam.gserviceaccount.com"],
            )
        ],
        ALLOWED_BY_ALLOW,
        id="target-service-account-of-receiver-applies",
    ),
    pytest.param(
        [rule("allow", "allow", direction="INGRESS", destination_ranges=["10.1.0.0/16"])],
        IMPLIED_DENY,
        id="destination-range-without-receiver-ignored",
    ),
    pytest.param([rule("allow", "allow")], IMPLIED_DENY, id="egress-allow-does-not-govern-ingress"),
    pytest.param(
        [
            rule("allow", "allow", 1000, direction="INGRESS"),
            rule("deny", "deny", 1000, direction="INGRESS", source_tags=["vpc-connector"]),
        ],
        (False, "deny"),
        id="priority-tie-deny-over-allow",
    ),
]


@pytest.mark.parametrize(("firewalls", "expected"), INGRESS_CASES)
def test_ingress_from_connector(firewalls: list[FirewallEvidence], expected: tuple[bool, str | None]) -> None:
    assert decide(firewalls, Traffic("vpc", "INGRESS", VM, FROM_CONNECTOR, 5432)) == expected


def test_connector_endpoint_carries_exactly_its_two_tags_and_no_service_account() -> None:
    assert FROM_CONNECTOR.tags == {"vpc-connector", "vpc-connector-us-central1-conn"}
    assert FROM_CONNECTOR.service_accounts == frozenset()


def test_connectors_are_paired_with_sql_private_ips_on_their_network() -> None:
    db = sql("db", "vpc")
    (path,) = connector_reachability([CONNECTOR], [rule("deny-db", "deny", 900)], [db, sql("db2", "x")])
    assert (path.target, path.port, path.allowed, path.deciding_rule) == (db.resource, 5432, False, "deny-db")
    assert path.allows_not_applying == []


def test_a_blocked_path_names_the_outranking_allows_whose_targets_leave_the_connector_out() -> None:
    rules = [
        rule("allow-bar", "allow", 45, protocol="all", target_tags=["bar"]),
        rule("allow-sa", "allow", 40, target_service_accounts=[SA]),
        rule("allow-bar-later", "allow", 60, target_tags=["bar"]),  # would not outrank the deny anyway
        rule("allow-bar-mysql", "allow", 10, ports=["3306"], target_tags=["bar"]),  # other traffic
        DENY_ALL,
    ]
    (path,) = connector_reachability([CONNECTOR], rules, [sql("db", "vpc")])
    assert (path.allowed, path.deciding_rule) == (False, "deny-all-egress")
    assert path.allows_not_applying == ["allow-bar", "allow-sa"]


def test_an_allow_at_the_denys_own_priority_is_not_named_as_an_outranking_allow() -> None:
    # At equal priority a deny wins even over an allow that applies: such an allow was not "meant to win".
    rules = [rule("allow-bar-tie", "allow", 50, protocol="all", target_tags=["bar"]), DENY_ALL]
    (path,) = connector_reachability([CONNECTOR], rules, [sql("db", "vpc")])
    assert (path.allowed, path.deciding_rule, path.allows_not_applying) == (False, "deny-all-egress", [])


def subnet(name: str, region: str, network: str, cidr: str) -> SubnetEvidence:
    return SubnetEvidence(
        name=name,
        resource=f"projects/p/regions/{region}/subnetworks/{name}",
        network=network,
        region=region,
        ip_cidr_range=cidr,
        prefix_length=28,
        usable_addresses=12,
    )


def test_a_connector_on_a_subnet_takes_the_range_of_that_subnet_in_its_region_and_network() -> None:
    # Subnet names are unique per region and network, not project-wide: only name, region and network
    # together name the connector's subnet.
    on_subnet = CONNECTOR.model_copy(update={"ip_cidr_range": None, "subnet": "conn-subnet"})
    subnets = [
        subnet("other-subnet", "us-central1", "vpc", "10.1.0.0/28"),
        subnet("conn-subnet", "europe-west1", "vpc", "10.2.0.0/28"),
        subnet("conn-subnet", "us-central1", "other-vpc", "10.3.0.0/28"),
        subnet("conn-subnet", "us-central1", "vpc", "10.4.0.0/28"),
    ]
    assert connector_source(on_subnet, subnets) == ("vpc", "10.4.0.0/28", None)
    (path,) = connector_reachability([on_subnet], [], [sql("db", "vpc")], subnets=subnets)
    assert (path.allowed, path.connector_range) == (True, "10.4.0.0/28")
