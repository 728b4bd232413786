"""Derives whether each connector may reach each private target, by evaluating VPC firewall rules.

VPC firewall semantics (https://cloud.google.com/firewall/docs/firewalls): rules apply per network and
direction; the lowest priority number wins, and at equal priority a deny beats an allow; when no rule
matches, the implied rules decide: allow all egress, deny all ingress.
"""

from __future__ import annotations

import ipaddress

from infradiag.evidence.model import ConnectorEvidence, Evidence
from infradiag.evidence.network import FirewallEvidence, FirewallPortRule, ReachabilityEvidence
from infradiag.evidence.sql import SqlInstanceEvidence


def _port_matches(rule: FirewallPortRule, protocol: str, port: int) -> bool:
    if rule.protocol not in ("all", protocol):
        return False
    if not rule.ports:
        return True
    for spec in rule.ports:
        low, _, high = spec.partition("-")
        if int(low) <= port <= int(high or low):
            return True
    return False


def _overlaps(ranges: list[str], network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    return any(network.overlaps(ipaddress.ip_network(r, strict=False)) for r in ranges)


def egress_decision(
    firewalls: list[FirewallEvidence],
    network: str,
    source: str,
    address: str,
    port: int,
    protocol: str = "tcp",
) -> tuple[bool, str | None]:
    """(allowed, deciding rule) for egress from `source` (CIDR) to address:port on `network`.

    Target tags are not evaluated: connector instances carry Google-managed tags, so a tagged rule is
    taken to apply (the cautious reading for a deny, and the usual intent for an allow).
    """
    source_net = ipaddress.ip_network(source, strict=False)
    destination = ipaddress.ip_network(f"{address}/32")
    matching = [
        f
        for f in firewalls
        if f.network == network
        and f.direction == "EGRESS"
        and not f.disabled
        and (not f.destination_ranges or _overlaps(f.destination_ranges, destination))
        and (not f.source_ranges or _overlaps(f.source_ranges, source_net))
        and any(_port_matches(r, protocol, port) for r in f.rules)
    ]
    if not matching:
        return True, None
    best = min(matching, key=lambda f: (f.priority, f.action != "deny"))
    return best.action == "allow", best.name


def connector_reachability(
    connectors: list[ConnectorEvidence],
    firewalls: list[FirewallEvidence],
    sql_instances: list[SqlInstanceEvidence],
) -> list[ReachabilityEvidence]:
    """For every connector and every Cloud SQL private IP on the connector's network: is egress allowed?"""
    paths: list[ReachabilityEvidence] = []
    for connector in connectors:
        if not connector.ip_cidr_range or not connector.network:
            continue
        for instance in sql_instances:
            if not instance.private_ip or instance.private_network != connector.network:
                continue
            allowed, rule = egress_decision(
                firewalls, connector.network, connector.ip_cidr_range, instance.private_ip, instance.port
            )
            paths.append(
                ReachabilityEvidence(
                    connector=connector.resource,
                    target=instance.resource,
                    address=instance.private_ip,
                    port=instance.port,
                    allowed=allowed,
                    deciding_rule=rule,
                )
            )
    return paths


def with_derived(evidence: Evidence) -> Evidence:
    """The evidence plus what follows from it alone: connector reachability."""
    paths = connector_reachability(evidence.connectors, evidence.firewalls, evidence.sql_instances)
    return evidence.model_copy(update={"reachability": paths})
