"""A firewall rule's source ranges decide whether it applies at all
(https://cloud.google.com/compute/docs/reference/rest/v1/firewalls, sourceRanges): a rule whose ranges leave
the sender out neither blocks nor admits its traffic, for egress and for ingress alike."""

from __future__ import annotations

import pytest

from infradiag.evidence import FirewallEvidence, FirewallPortRule
from infradiag.evidence.reachability import Endpoint, Traffic, connector_reachability, decide
from tests.evidence import network

CONNECTOR_RANGE = "10.8.0.0/28"  # network.CONNECTOR's
CONNECTOR = Endpoint(CONNECTOR_RANGE, frozenset({"vpc-connector"}))
OTHER = Endpoint("10.9.0.0/28", frozenset({"vpc-connector"}))
DB = Endpoint("10.20.0.3/32")
VM = Endpoint("10.0.0.5/32", frozenset({"db"}))


def rule(name: str, action: str, direction: str, source_ranges: list[str]) -> FirewallEvidence:
    return FirewallEvidence(
        name=name,
        network="vpc",
        direction=direction,
        priority=100,
        action=action,
        rules=[FirewallPortRule(protocol="tcp", ports=["5432"])],
        source_ranges=source_ranges,
    )


@pytest.mark.parametrize(
    ("sender", "expected"),
    [
        (CONNECTOR, (False, "deny-from-connector")),  # the sender is in the rule's sources: it applies
        (OTHER, (True, None)),  # it is not: the implied allow-egress decides
    ],
)
def test_an_egress_deny_applies_only_to_senders_in_its_source_ranges(
    sender: Endpoint, expected: tuple[bool, str | None]
) -> None:
    deny = rule("deny-from-connector", "deny", "EGRESS", [CONNECTOR_RANGE])
    assert decide([deny], Traffic("vpc", "EGRESS", sender, DB, 5432)) == expected


@pytest.mark.parametrize(
    ("sender", "expected"),
    [
        (CONNECTOR, (True, "allow-from-connector")),
        (OTHER, (False, None)),  # not among the sources: the implied deny-ingress decides
    ],
)
def test_an_ingress_allow_admits_only_senders_in_its_source_ranges(
    sender: Endpoint, expected: tuple[bool, str | None]
) -> None:
    allow = rule("allow-from-connector", "allow", "INGRESS", [CONNECTOR_RANGE])
    assert decide([allow], Traffic("vpc", "INGRESS", VM, sender, 5432)) == expected


def test_an_ingress_deny_for_other_sources_does_not_outrank_the_allow_for_the_sender() -> None:
    deny = rule("deny-elsewhere", "deny", "INGRESS", ["192.168.0.0/16"])
    allow = rule("allow-from-connector", "allow", "INGRESS", [CONNECTOR_RANGE])
    allow = allow.model_copy(update={"priority": 200})  # outranked by the deny, were it to apply
    assert decide([deny, allow], Traffic("vpc", "INGRESS", VM, CONNECTOR, 5432)) == (
        True,
        "allow-from-connector",
    )


@pytest.mark.parametrize(
    ("source_ranges", "allowed", "deciding"),
    [([CONNECTOR_RANGE], False, "deny-db"), (["10.9.0.0/28"], True, None)],
)
def test_a_connector_is_blocked_only_by_an_egress_deny_whose_sources_include_its_range(
    source_ranges: list[str], allowed: bool, deciding: str | None
) -> None:
    deny = rule("deny-db", "deny", "EGRESS", source_ranges)
    [path] = connector_reachability([network.CONNECTOR], [deny], [network.sql()])
    assert (path.allowed, path.deciding_rule) == (allowed, deciding)
    # The same deny aimed at the connector's own tag, vpc-connector-REGION-NAME, applies to it as well.
    aimed = deny.model_copy(update={"target_tags": ["vpc-connector-us-central1-conn"]})
    [path] = connector_reachability([network.CONNECTOR], [aimed], [network.sql()])
    assert (path.allowed, path.deciding_rule) == (allowed, deciding)


def test_a_source_range_written_with_host_bits_still_covers_its_network() -> None:
    # 10.8.0.5/28 names the network 10.8.0.0/28, as the Compute API reads it.
    deny = rule("deny-from-connector", "deny", "EGRESS", ["10.8.0.5/28"])
    assert decide([deny], Traffic("vpc", "EGRESS", CONNECTOR, DB, 5432)) == (False, "deny-from-connector")
    host_bits = Endpoint("10.8.0.7/28", frozenset({"vpc-connector"}))
    exact = rule("deny-exact", "deny", "EGRESS", [CONNECTOR_RANGE])
    assert decide([exact], Traffic("vpc", "EGRESS", host_bits, DB, 5432)) == (False, "deny-exact")
