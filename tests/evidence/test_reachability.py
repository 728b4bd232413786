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
BLOCKED = (False, "deny")
UNTOUCHED = (True, None)
ALLOWED = (True, "allow")
IMPLIED_DENY = (False, None)
UNIQUE_TAG = "vpc-connector-us-central1-conn"  # the connector's own tag; vpc-connector is every connector's


def deny(priority: int = 1000, **fields: Any) -> FirewallEvidence:
    """Rule `deny`: tcp denied on every port at `priority`, an egress rule unless `fields` say otherwise."""
    return rule("deny", "deny", priority, **fields)


def allow_in(**fields: Any) -> FirewallEvidence:
    """Rule `allow`: tcp ingress allowed on every port at priority 1000, from and to what `fields` say."""
    return rule("allow", "allow", direction="INGRESS", **fields)


def case(name: str, expected: tuple[bool, str | None], *firewalls: FirewallEvidence) -> Any:
    """The case `name`: these firewall rules, and what decide() returns for them (allowed, deciding rule)."""
    return pytest.param(list(firewalls), expected, id=name)


# Egress from the connector's instances to 10.20.0.3:5432/tcp.
EGRESS_CASES = [
    case("no-rule-implied-allow-egress", UNTOUCHED),
    case("untargeted-deny-applies-to-all-instances", BLOCKED, deny(destination_ranges=["10.20.0.0/16"])),
    case("target-universal-connector-tag-applies", BLOCKED, deny(target_tags=["vpc-connector"])),
    case("target-unique-connector-tag-applies", BLOCKED, deny(target_tags=["web", UNIQUE_TAG])),
    case(
        "target-another-connectors-tag-ignored",
        UNTOUCHED,
        deny(target_tags=["vpc-connector-us-central1-other"]),
    ),
    case(
        "target-same-name-other-region-tag-ignored",
        UNTOUCHED,
        deny(target_tags=["vpc-connector-us-east1-conn"]),
    ),
    case("target-other-tag-ignored", UNTOUCHED, deny(target_tags=["bar"])),
    case("target-service-account-ignored", UNTOUCHED, deny(target_service_accounts=[SA])),
    case(
        "allow-targeting-service-account-does-not-unblock",
        BLOCKED,
        deny(),
        rule("allow-sa", "allow", 900, target_service_accounts=[SA]),
    ),
    case("lower-number-wins-allow", (True, "allow"), deny(1000), rule("allow", "allow", 900, ports=["5432"])),
    case("lower-number-wins-deny", BLOCKED, rule("allow", "allow", 100), deny(99)),
    case("priority-tie-deny-over-allow", BLOCKED, rule("allow", "allow", 500), deny(500)),
    case("priority-tie-deny-over-allow-any-order", BLOCKED, deny(500), rule("allow", "allow", 500)),
    case("disabled-deny-ignored", UNTOUCHED, deny(disabled=True)),
    case("disabled-allow-ignored", BLOCKED, deny(), rule("allow", "allow", 10, disabled=True)),
    case("ingress-deny-does-not-govern-egress", UNTOUCHED, deny(direction="INGRESS")),
    case("other-network-ignored", UNTOUCHED, deny(network="other")),
    case("destination-range-without-target-ignored", UNTOUCHED, deny(destination_ranges=["192.168.0.0/16"])),
    case("destination-range-with-target-applies", BLOCKED, deny(destination_ranges=["10.20.0.3/32"])),
    case("ipv6-destination-range-leaves-ipv4-target-alone", UNTOUCHED, deny(destination_ranges=["::/0"])),
    case("egress-source-range-without-connector-ignored", UNTOUCHED, deny(source_ranges=["10.9.0.0/24"])),
    case("other-port-ignored", UNTOUCHED, deny(ports=["3306"])),
    case("port-range-covering-port-applies", BLOCKED, deny(ports=["5000-6000"])),
    case("port-list-covering-port-applies", BLOCKED, deny(ports=["22", "5432"])),
    case("other-protocol-ignored", UNTOUCHED, deny(protocol="udp")),
    case("protocol-all-applies", BLOCKED, deny(protocol="all")),
    case("protocol-number-6-is-tcp", BLOCKED, deny(protocol="6")),
    case(
        "masking-allow-p45-tag-bar-over-untargeted-deny-p50-blocked",
        (False, "deny-all-egress"),
        rule("allow-bar", "allow", 45, protocol="all", target_tags=["bar"]),
        DENY_ALL,
    ),
    case(
        "allow-p45-tag-vpc-connector-over-deny-p50-allowed",
        (True, "allow-conn"),
        rule("allow-conn", "allow", 45, protocol="all", target_tags=["vpc-connector"]),
        DENY_ALL,
    ),
]


@pytest.mark.parametrize(("firewalls", "expected"), EGRESS_CASES)
def test_connector_egress(firewalls: list[FirewallEvidence], expected: tuple[bool, str | None]) -> None:
    assert decide(firewalls, Traffic("vpc", "EGRESS", FROM_CONNECTOR, DB, 5432)) == expected


# Ingress to a VM of the network (tag db, service account db@) from the connector on 5432/tcp.
INGRESS_CASES = [
    case("no-rule-implied-deny-ingress", IMPLIED_DENY),
    case("no-source-means-any-source", ALLOWED, allow_in()),
    case("source-range-of-connector-applies", ALLOWED, allow_in(source_ranges=["10.8.0.0/28"])),
    case("source-range-elsewhere-ignored", IMPLIED_DENY, allow_in(source_ranges=["10.9.0.0/24"])),
    case("source-universal-connector-tag-applies", ALLOWED, allow_in(source_tags=["vpc-connector"])),
    case("source-unique-connector-tag-applies", ALLOWED, allow_in(source_tags=[UNIQUE_TAG])),
    case("source-other-tag-ignored", IMPLIED_DENY, allow_in(source_tags=["bar"])),
    case("source-service-account-never-the-connector", IMPLIED_DENY, allow_in(source_service_accounts=[SA])),
    case(
        "source-tags-or-ranges-either-matches",
        ALLOWED,
        allow_in(source_tags=["bar"], source_ranges=["10.8.0.0/28"]),
    ),
    case("target-tag-of-receiver-applies", ALLOWED, allow_in(target_tags=["db"])),
    case("target-other-tag-ignored", IMPLIED_DENY, allow_in(target_tags=["web"])),
    case(
        "target-service-account-of-receiver-applies",
        ALLOWED,
        allow_in(target_service_accounts=["db@p.iam.gserviceaccount.com"]),
    ),
    case(
        "destination-range-without-receiver-ignored",
        IMPLIED_DENY,
        allow_in(destination_ranges=["10.1.0.0/16"]),
    ),
    case("egress-allow-does-not-govern-ingress", IMPLIED_DENY, rule("allow", "allow")),
    case(
        "priority-tie-deny-over-allow",
        (False, "deny"),
        allow_in(),
        deny(direction="INGRESS", source_tags=["vpc-connector"]),
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
