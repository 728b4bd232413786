"""Derives whether each connector may reach each private target, by evaluating VPC firewall rules.

Evaluation as Google documents it (https://cloud.google.com/firewall/docs/firewalls, and the field
semantics of https://cloud.google.com/compute/docs/reference/rest/v1/firewalls): a rule applies to a
connection when its network and direction match, it is not disabled, its targets include the instance it
is enforced on, its sources (ingress) or destinations match the other end, and its protocols and ports cover
the traffic. Among the rules that apply, the lowest priority number wins and at equal priority a deny beats
an allow; when none applies, the implied rules decide (priority 65535): allow all egress, deny all ingress.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from infradiag.evidence.model import ConnectorEvidence, Evidence
from infradiag.evidence.network import FirewallEvidence, FirewallPortRule, ReachabilityEvidence
from infradiag.evidence.sql import SqlInstanceEvidence

# https://cloud.google.com/vpc/docs/serverless-vpc-access#network-tags: every connector instance carries
# exactly two network tags, this universal one and vpc-connector-REGION-CONNECTOR_NAME; none can be added
# or removed.
UNIVERSAL_CONNECTOR_TAG = "vpc-connector"
# https://cloud.google.com/compute/docs/reference/rest/v1/firewalls (allowed[].IPProtocol): a protocol name
# or its IP protocol number.
PROTOCOL_NUMBERS = {"1": "icmp", "6": "tcp", "17": "udp", "132": "sctp"}


@dataclass(frozen=True)
class Endpoint:
    """One end of a connection as firewall rules see it: its addresses, network tags and service accounts.

    `addresses` is a CIDR: one address (/32), or a range whose every address may be the one in use (a
    connector's /28, one address per connector instance).
    """

    addresses: str
    tags: frozenset[str] = frozenset()
    service_accounts: frozenset[str] = frozenset()


def connector_endpoint(connector: ConnectorEvidence, cidr: str) -> Endpoint:
    """The connector's instances: addresses in `cidr`, its two network tags, and no service account.

    A rule targeted at service accounts applies to the instances that run as one of them
    (https://cloud.google.com/firewall/docs/firewalls, targets); connector instances are Google-managed and
    run as no service account of the project, and Google documents selecting them by these network tags
    only (https://cloud.google.com/vpc/docs/serverless-vpc-access#network-tags). So rules whose targets, or
    ingress sources, are service accounts never select a connector.
    """
    unique = f"{UNIVERSAL_CONNECTOR_TAG}-{connector.region}-{connector.name}"
    return Endpoint(cidr, frozenset({UNIVERSAL_CONNECTOR_TAG, unique}))


def _port_matches(rule: FirewallPortRule, protocol: str, port: int) -> bool:
    if PROTOCOL_NUMBERS.get(rule.protocol, rule.protocol) not in ("all", protocol):
        return False
    if not rule.ports:
        return True
    for spec in rule.ports:
        low, _, high = spec.partition("-")
        if int(low) <= port <= int(high or low):
            return True
    return False


def _overlaps(ranges: list[str], endpoint: Endpoint) -> bool:
    addresses = ipaddress.ip_network(endpoint.addresses, strict=False)
    return any(addresses.overlaps(ipaddress.ip_network(r, strict=False)) for r in ranges)


def _targets(rule: FirewallEvidence, instance: Endpoint) -> bool:
    # REST reference, targetServiceAccounts: "If neither targetServiceAccounts nor targetTags are specified,
    # the firewall rule applies to all instances on the specified network"; a rule has one kind or neither.
    if rule.target_tags:
        return not instance.tags.isdisjoint(rule.target_tags)
    if rule.target_service_accounts:
        return not instance.service_accounts.isdisjoint(rule.target_service_accounts)
    return True


def _ingress_sources(rule: FirewallEvidence, peer: Endpoint) -> bool:
    # REST reference, sourceRanges/sourceTags/sourceServiceAccounts: a rule with several kinds of source
    # applies to traffic that matches any one of them; an ingress rule without sources takes 0.0.0.0/0
    # (https://cloud.google.com/firewall/docs/firewalls, sources for ingress rules).
    if not (rule.source_ranges or rule.source_tags or rule.source_service_accounts):
        return True
    return (
        (bool(rule.source_ranges) and _overlaps(rule.source_ranges, peer))
        or not peer.tags.isdisjoint(rule.source_tags)
        or not peer.service_accounts.isdisjoint(rule.source_service_accounts)
    )


@dataclass(frozen=True)
class Traffic:
    """One connection as firewall rules judge it: `protocol`:`port` traffic on `network` in `direction`
    between `instance` (where the rules are enforced: the sender for EGRESS, the receiver for INGRESS) and
    `peer`."""

    network: str
    direction: str
    instance: Endpoint
    peer: Endpoint
    port: int
    protocol: str = "tcp"


def applies(rule: FirewallEvidence, traffic: Traffic, *, check_targets: bool = True) -> bool:
    """Whether `rule` governs `traffic`.

    Destination ranges, when set, must include the receiver's address and source ranges the sender's (for a
    range such as a connector's /28: any address of it). Source tags and source service accounts only exist
    for ingress. With `check_targets` false, targets are not looked at
    (to find rules that would have applied had they targeted the instance).
    """
    t = traffic
    if rule.network != t.network or rule.direction != t.direction or rule.disabled:
        return False
    if check_targets and not _targets(rule, t.instance):
        return False
    sender, receiver = (t.instance, t.peer) if t.direction == "EGRESS" else (t.peer, t.instance)
    if rule.destination_ranges and not _overlaps(rule.destination_ranges, receiver):
        return False
    if t.direction == "EGRESS":
        if rule.source_ranges and not _overlaps(rule.source_ranges, sender):
            return False
    elif not _ingress_sources(rule, sender):
        return False
    return any(_port_matches(r, t.protocol, t.port) for r in rule.rules)


def deciding_rule(firewalls: list[FirewallEvidence], traffic: Traffic) -> FirewallEvidence | None:
    """The rule that decides `traffic`: the applicable rule with the lowest priority number, a deny first at
    equal priority; None when no rule applies and an implied rule decides."""
    matching = [f for f in firewalls if applies(f, traffic)]
    return min(matching, key=lambda f: (f.priority, f.action != "deny"), default=None)


def decide(firewalls: list[FirewallEvidence], traffic: Traffic) -> tuple[bool, str | None]:
    """(allowed, deciding rule) for `traffic`, the rule as `deciding_rule` chooses it; (True, None) for egress
    and (False, None) for ingress when no rule applies (the implied rules)."""
    best = deciding_rule(firewalls, traffic)
    if best is None:
        return traffic.direction == "EGRESS", None
    return best.action == "allow", best.name


def allows_not_applying(firewalls: list[FirewallEvidence], traffic: Traffic, *, outranking: int) -> list[str]:
    """Names of allow rules with a lower priority number than `outranking` (the deciding rule's) that match
    `traffic` in every respect but their targets, which leave its instance out: the allows someone meant to
    win and that do not apply."""
    return [
        f.name
        for f in firewalls
        if f.action == "allow"
        and f.priority < outranking
        and applies(f, traffic, check_targets=False)
        and not _targets(f, traffic.instance)
    ]


def connector_reachability(
    connectors: list[ConnectorEvidence],
    firewalls: list[FirewallEvidence],
    sql_instances: list[SqlInstanceEvidence],
) -> list[ReachabilityEvidence]:
    """For every connector and every Cloud SQL private IP on the connector's network: may the connector's
    instances send it TCP traffic, by the network's egress rules? Only egress is evaluated: the private IP
    belongs to Google's service producer network, peered with this one
    (https://cloud.google.com/vpc/docs/private-services-access), not to an instance of this network that
    the project's ingress rules could select."""
    paths: list[ReachabilityEvidence] = []
    for connector in connectors:
        if not connector.ip_cidr_range or not connector.network:
            continue
        source = connector_endpoint(connector, connector.ip_cidr_range)
        for instance in sql_instances:
            if not instance.private_ip or instance.private_network != connector.network:
                continue
            traffic = Traffic(
                connector.network, "EGRESS", source, Endpoint(instance.private_ip), instance.port
            )
            best = deciding_rule(firewalls, traffic)
            allowed = best is None or best.action == "allow"  # no rule: the implied allow egress
            missed: list[str] = []
            if best is not None and not allowed:
                missed = allows_not_applying(firewalls, traffic, outranking=best.priority)
            paths.append(
                ReachabilityEvidence(
                    connector=connector.resource,
                    target=instance.resource,
                    address=instance.private_ip,
                    port=instance.port,
                    allowed=allowed,
                    deciding_rule=best.name if best else None,
                    allows_not_applying=missed,
                )
            )
    return paths


def with_derived(evidence: Evidence) -> Evidence:
    """The evidence plus what follows from it alone: connector reachability, and for load balancer backends
    the ports health checks probe and whether the firewall admits the probes."""
    from infradiag.evidence.lbprobes import with_probes  # lbprobes builds on this module

    paths = connector_reachability(evidence.connectors, evidence.firewalls, evidence.sql_instances)
    backends = with_probes(evidence.backend_services, evidence.health_checks, evidence.firewalls)
    return evidence.model_copy(update={"reachability": paths, "backend_services": backends})
