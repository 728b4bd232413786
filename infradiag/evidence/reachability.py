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
from typing import TYPE_CHECKING

from infradiag.evidence.model import ConnectorEvidence, Evidence, Unknown
from infradiag.evidence.network import (
    FirewallEvidence,
    FirewallPortRule,
    NetworkPoliciesEvidence,
    ReachabilityEvidence,
    SubnetEvidence,
)
from infradiag.evidence.sql import SqlInstanceEvidence

if TYPE_CHECKING:
    from infradiag.evidence.firewall_order import Decision

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
    # Secure tags bound to the instance (firewall policies select by them); None: not known.
    secure_tags: frozenset[str] | None = frozenset()
    # False for Google-managed instances whose service account firewall policies might select is unknown.
    accounts_known: bool = True


def connector_endpoint(connector: ConnectorEvidence, cidr: str) -> Endpoint:
    """The connector's instances: addresses in `cidr`, its two network tags, and no service account.

    A rule targeted at service accounts applies to the instances that run as one of them
    (https://cloud.google.com/firewall/docs/firewalls, targets); connector instances are Google-managed and
    run as no service account of the project, and Google documents selecting them by these network tags
    only (https://cloud.google.com/vpc/docs/serverless-vpc-access#network-tags). So rules whose targets, or
    ingress sources, are service accounts never select a connector.
    """
    unique = f"{UNIVERSAL_CONNECTOR_TAG}-{connector.region}-{connector.name}"
    # For firewall policies (secure tags, service accounts) Google documents no way to select connector
    # instances at all, so a policy rule targeting either makes the verdict undetermined (firewall_order.py).
    return Endpoint(
        cidr, frozenset({UNIVERSAL_CONNECTOR_TAG, unique}), secure_tags=None, accounts_known=False
    )


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


def connector_source(
    connector: ConnectorEvidence, subnets: list[SubnetEvidence]
) -> tuple[str | None, str | None, str | None]:
    """(network, address range, why unknown) of a connector's instances: its ipCidrRange, or the primary range
    of the subnet it was created in (https://cloud.google.com/vpc/docs/configure-serverless-vpc-access: a
    connector given a subnet takes its addresses from that subnet). A subnet that is not among the read ones
    (it may live in a Shared VPC host project) leaves the range unknown."""
    if connector.ip_cidr_range:
        return connector.network, connector.ip_cidr_range, None
    if not connector.subnet:
        return connector.network, None, None
    for subnet in subnets:
        if subnet.name == connector.subnet and subnet.region == connector.region:
            if connector.network and subnet.network != connector.network:
                continue
            return subnet.network, subnet.ip_cidr_range, None
    why = (
        f"connector {connector.name} uses subnet {connector.subnet}, which is not among the subnets read in "
        f"{connector.region} (it may belong to a Shared VPC host project), so its addresses are unknown"
    )
    return connector.network, None, why


def connector_reachability(
    connectors: list[ConnectorEvidence],
    firewalls: list[FirewallEvidence] | None,
    sql_instances: list[SqlInstanceEvidence],
    policies: list[NetworkPoliciesEvidence] | None = None,
    subnets: list[SubnetEvidence] | None = None,
) -> list[ReachabilityEvidence]:
    """For every connector and every Cloud SQL private IP on the connector's network: may the connector's
    instances send it TCP traffic, by the egress rules of the firewall policies and VPC firewall rules in
    effect (firewall_order.py)? Only egress is evaluated: the private IP belongs to Google's service producer
    network, peered with this one (https://cloud.google.com/vpc/docs/private-services-access), not to an
    instance of this network that the project's ingress rules could select.

    `policies` None: only VPC firewall rules are known (evidence built without reading policies); a list:
    the policies read, and a network missing from it had its policies unread, so its paths are undetermined
    (allowed None), never reachable. `firewalls` None: the VPC rules could not be read, so every path is
    undetermined too (an empty list would let the implied allow-all egress call it reachable).
    """
    from infradiag.evidence.firewall_order import Decision, evaluate

    by_network = {p.network: p for p in policies} if policies is not None else None
    paths: list[ReachabilityEvidence] = []
    for connector in connectors:
        network, cidr, unknown_range = connector_source(connector, subnets or [])
        if not network:
            continue
        for instance in sql_instances:
            if not instance.private_ip or instance.private_network != network:
                continue
            if cidr is None:
                if unknown_range is not None:
                    paths.append(_undetermined(connector, instance, unknown_range))
                continue
            if firewalls is None:
                paths.append(_undetermined(connector, instance, RULES_UNREAD))
                continue
            traffic = Traffic(
                network,
                "EGRESS",
                connector_endpoint(connector, cidr),
                Endpoint(instance.private_ip),
                instance.port,
            )
            if by_network is None:
                best = deciding_rule(firewalls, traffic)
                decision = Decision(
                    best is None or best.action == "allow", "vpc" if best else "implied", vpc_rule=best
                )
            else:
                decision = evaluate(firewalls, by_network.get(network), traffic)
            paths.append(_path(connector, instance, cidr, decision, firewalls, traffic))
    return paths


def _undetermined(
    connector: ConnectorEvidence, instance: SqlInstanceEvidence, why: str
) -> ReachabilityEvidence:
    return ReachabilityEvidence(
        connector=connector.resource,
        target=instance.resource,
        address=instance.private_ip or "",
        port=instance.port,
        allowed=None,
        undetermined=why,
    )


def _path(
    connector: ConnectorEvidence,
    instance: SqlInstanceEvidence,
    cidr: str,
    decision: Decision,
    firewalls: list[FirewallEvidence],
    traffic: Traffic,
) -> ReachabilityEvidence:
    missed: list[str] = []
    if decision.vpc_rule is not None and decision.allowed is False:
        missed = allows_not_applying(firewalls, traffic, outranking=decision.vpc_rule.priority)
    policy, rule = decision.policy, decision.policy_rule
    return ReachabilityEvidence(
        connector=connector.resource,
        target=instance.resource,
        address=instance.private_ip or "",
        port=instance.port,
        allowed=decision.allowed,
        connector_range=cidr,
        deciding_rule=decision.vpc_rule.name if decision.vpc_rule is not None else None,
        deciding_layer=decision.layer,
        deciding_policy=(policy.short_name or policy.name) if policy is not None else None,
        deciding_policy_id=policy.name if policy is not None else None,
        deciding_policy_type=policy.type if policy is not None else None,
        deciding_policy_region=policy.region if policy is not None else None,
        deciding_policy_priority=rule.priority if rule is not None else None,
        deciding_text=decision.text,
        undetermined=decision.undetermined,
        allows_not_applying=missed,
    )


# Text of the consequence of a failed read of the policies (FIREWALL_POLICIES in
# collect/firewall_policies.py); the failure is then already reported, once, with its fix.
POLICIES_UNREAD = "firewall policies in effect could not be read"
# Without the VPC rules nothing can be decided: the read's own Unknown already says so and what to grant.
RULES_UNREAD = "the VPC firewall rules could not be read"
POLICIES_UNREAD_DETAIL = "could not be read"


def undetermined_unknowns(paths: list[ReachabilityEvidence], known: list[Unknown]) -> list[Unknown]:
    """One Unknown per path whose verdict is undetermined, so that a triage is never healthy on it; none for
    paths whose policies could not be read when `known` already reports that read's failure."""
    reported = any(POLICIES_UNREAD in u.consequence for u in known)
    unknowns = []
    for path in paths:
        if path.allowed is not None or path.undetermined == RULES_UNREAD:
            continue
        unread = "could not be read" in (path.undetermined or "")
        if unread and reported:
            continue
        fix = (
            "grant roles/compute.networkViewer (compute.networks.getEffectiveFirewalls) to the identity "
            "running infradiag"
            if unread
            else "check by hand whether this rule matches the connector's traffic "
            "(gcloud compute networks get-effective-firewalls NETWORK), or run a Connectivity Test from the "
            "connector's range to the target"
        )
        unknowns.append(
            Unknown(
                source="compute",
                reason="UNDETERMINED",
                fix=fix,
                consequence=(
                    f"whether connector {path.connector.rsplit('/', 1)[-1]} reaches "
                    f"{path.target.rsplit('/', 1)[-1]} at {path.address}:{path.port} is undetermined "
                    "(vpc_connector.firewall_blocked)"
                ),
                detail=path.undetermined or "",
            )
        )
    return unknowns


def with_derived(evidence: Evidence) -> Evidence:
    """The evidence plus what follows from it alone: connector reachability (with an Unknown for every path
    that cannot be decided), and for load balancer backends the ports health checks probe and whether the
    firewall admits the probes."""
    from infradiag.evidence.lbprobes import with_probes  # lbprobes builds on this module

    reported = any(POLICIES_UNREAD in u.consequence for u in evidence.unknowns)
    # Collected evidence names every read that answered; evidence built by hand names none and is taken
    # as complete.
    rules_read = not evidence.checked or "firewalls" in evidence.checked
    paths = connector_reachability(
        evidence.connectors,
        evidence.firewalls if rules_read else None,
        evidence.sql_instances,
        evidence.firewall_policies,
        evidence.subnets,
    )
    backends = with_probes(
        evidence.backend_services,
        evidence.health_checks,
        evidence.firewalls if rules_read else None,
        evidence.firewall_policies,
    )
    probes_unknown = [
        Unknown(
            source="compute",
            reason="UNDETERMINED",
            fix="check by hand whether this firewall policy rule matches the probes "
            "(gcloud compute networks get-effective-firewalls NETWORK)",
            consequence=f"whether health-check probes reach instance group {wall.group_name} of "
            f"{service.name} is undetermined (lb.backend_unhealthy)",
            detail=wall.undetermined or "",
        )
        for service in backends
        for wall in service.probe_firewall
        if wall.allowed is None
        and wall.undetermined != RULES_UNREAD
        and not (POLICIES_UNREAD_DETAIL in (wall.undetermined or "") and reported)
    ]
    return evidence.model_copy(
        update={
            "reachability": paths,
            "backend_services": backends,
            "unknowns": [
                *evidence.unknowns,
                *undetermined_unknowns(paths, evidence.unknowns),
                *probes_unknown,
            ],
        }
    )
