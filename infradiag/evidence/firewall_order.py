"""Decides one connection the way Cloud NGFW does: firewall policies and VPC firewall rules, in their order.

Order as Google documents it (https://cloud.google.com/firewall/docs/firewall-policies-rule-eval-order, and
https://cloud.google.com/firewall/docs/firewall-policies-overview, "Policy and rule evaluation order"):

1. hierarchical firewall policies, the organization's first, then each folder's from the top down; within a
   policy the matching rule with the lowest priority number decides: `allow` and `deny` are final,
   `goto_next` passes the connection to the next level;
2. regional system firewall policies (Google-managed; evaluated right after the hierarchy);
3. by the network's networkFirewallPolicyEnforcementOrder: AFTER_CLASSIC_FIREWALL (the default) evaluates the
   VPC firewall rules, then the global network firewall policy, then the regional one; BEFORE_CLASSIC_FIREWALL
   evaluates both network firewall policies before the VPC firewall rules. A VPC firewall rule that applies is
   final (https://cloud.google.com/firewall/docs/firewalls);
4. the implied rules: allow egress, deny ingress.

`apply_security_profile_group` sends the connection to Cloud NGFW's layer-7 inspection
(https://cloud.google.com/firewall/docs/firewall-policies-rule-details, actions): for whether a TCP
connection may be opened at all it acts as an allow, which is how it is judged here (the inspection may
still drop threats).

A rule that matches on something infradiag cannot evaluate (FQDNs, geolocations, threat intelligence lists,
address groups, network types, secure tags of instances whose tags were not read, the service accounts of
Google-managed connector instances) makes the verdict undetermined when the rest of it matches: the
connection is then neither called allowed nor blocked.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from infradiag.evidence.network import (
    FirewallEvidence,
    FirewallPolicyEvidence,
    FirewallPolicyRuleEvidence,
    FirewallPortRule,
    NetworkPoliciesEvidence,
)
from infradiag.evidence.reachability import PROTOCOL_NUMBERS, Endpoint, Traffic, deciding_rule

# Match fields that name sources (ingress) or destinations (egress) alongside the IP ranges: traffic matches
# when it matches any one kind (https://cloud.google.com/firewall/docs/firewall-policies-rule-details, sources
# and destinations).
ALTERNATIVE_SOURCES = ("srcFqdns", "srcRegionCodes", "srcThreatIntelligences", "srcAddressGroups")
ALTERNATIVE_DESTINATIONS = ("destFqdns", "destRegionCodes", "destThreatIntelligences", "destAddressGroups")
# Match fields that narrow a rule further (every one must match): network types and contexts.
NARROWING = ("srcNetworkType", "srcNetworks", "srcNetworkContext", "destNetworkType", "destNetworkContext")
UNEVALUABLE = (*ALTERNATIVE_SOURCES, *ALTERNATIVE_DESTINATIONS, *NARROWING)
FINAL_ALLOW = ("allow", "apply_security_profile_group")
LAYER_OF_TYPE = {
    "HIERARCHY": "hierarchy",
    "SYSTEM": "system",
    "SYSTEM_GLOBAL": "system",
    "SYSTEM_REGIONAL": "system",
    "NETWORK": "network",
    "NETWORK_REGIONAL": "regional",
}

# A tri-state match: True, False, or why it cannot be told.
Match = bool | str


@dataclass(frozen=True)
class Decision:
    """Who decides one connection: `allowed` None when undetermined (`undetermined` says why)."""

    allowed: bool | None
    layer: str  # hierarchy | system | network | regional | vpc | implied | unknown
    vpc_rule: FirewallEvidence | None = None
    policy: FirewallPolicyEvidence | None = None
    policy_rule: FirewallPolicyRuleEvidence | None = None
    undetermined: str | None = None

    @property
    def text(self) -> str | None:
        """The deciding rule named for a finding: "policy NAME rule PRIORITY", a VPC rule's name, or None for
        an implied rule."""
        if self.policy is not None and self.policy_rule is not None:
            return f"policy {policy_label(self.policy)} rule {self.policy_rule.priority}"
        return self.vpc_rule.name if self.vpc_rule is not None else None


def policy_label(policy: FirewallPolicyEvidence) -> str:
    """How people name a policy: its shortName (hierarchical policies' name is a number), else its name."""
    return policy.short_name or policy.name


def _overlaps(ranges: list[str], endpoint: Endpoint) -> bool:
    addresses = ipaddress.ip_network(endpoint.addresses, strict=False)
    return any(
        addresses.version == network.version and addresses.overlaps(network)
        for network in (ipaddress.ip_network(r, strict=False) for r in ranges)
    )


def _ports(configs: list[FirewallPortRule], protocol: str, port: int) -> bool:
    if not configs:
        return True
    for config in configs:
        if PROTOCOL_NUMBERS.get(config.protocol, config.protocol) not in ("all", protocol):
            continue
        if not config.ports:
            return True
        for spec in config.ports:
            low, _, high = spec.partition("-")
            if int(low) <= port <= int(high or low):
                return True
    return False


def _all(parts: list[Match]) -> Match:
    if False in parts:
        return False
    unknown = [p for p in parts if isinstance(p, str)]
    return unknown[0] if unknown else True


def _any(parts: list[Match]) -> Match:
    if True in parts:
        return True
    unknown = [p for p in parts if isinstance(p, str)]
    return unknown[0] if unknown else False


def _alternatives(ranges: list[str], other: list[str], end: Endpoint, tags: list[str] | None = None) -> Match:
    """Sources (or destinations) given as ranges, secure tags and kinds infradiag cannot evaluate: a match on
    any one; none given: any."""
    if not ranges and not other and not tags:
        return True
    parts: list[Match] = []
    if ranges:
        parts.append(_overlaps(ranges, end))
    if tags:
        if end.secure_tags is None:
            parts.append(f"it matches sources by secure tags ({', '.join(tags)}), which were not read")
        else:
            parts.append(not end.secure_tags.isdisjoint(tags))
    if other:
        parts.append(f"it matches on {', '.join(other)}, which infradiag cannot evaluate")
    return _any(parts)


def _targets(rule: FirewallPolicyRuleEvidence, traffic: Traffic) -> Match:
    instance = traffic.instance
    parts: list[Match] = []
    if rule.target_resources:
        parts.append(traffic.network in rule.target_resources)
    if rule.target_service_accounts:
        if instance.accounts_known:
            parts.append(not instance.service_accounts.isdisjoint(rule.target_service_accounts))
        else:
            # Connector instances are Google-managed; Google documents no service account a firewall policy
            # could select them by (https://cloud.google.com/vpc/docs/serverless-vpc-access#firewall-rules
            # names only their network tags), so whether such a rule selects them cannot be told.
            parts.append(
                f"it targets service accounts ({', '.join(rule.target_service_accounts)}), "
                "and whether they select the instance is unknown"
            )
    if rule.target_secure_tags:
        if instance.secure_tags is None:
            parts.append(
                f"it targets secure tags ({', '.join(rule.target_secure_tags)}), "
                "and the instance's are unknown"
            )
        else:
            parts.append(not instance.secure_tags.isdisjoint(rule.target_secure_tags))
    return _all(parts)


def policy_rule_matches(rule: FirewallPolicyRuleEvidence, traffic: Traffic) -> Match:
    """Whether a firewall policy rule governs `traffic`: True, False, or why that cannot be told.

    Fields as the FirewallPolicyRule REST reference documents them: direction, disabled, targetResources
    (networks), targetServiceAccounts, targetSecureTags, match.layer4Configs, and match.srcIpRanges /
    destIpRanges: for ingress the sources are alternatives (ranges, secure tags, FQDNs, ...) and destIpRanges
    narrows the receiver; for egress the destinations are alternatives and srcIpRanges narrows the sender.
    """
    t = traffic
    if rule.disabled or rule.direction != t.direction:
        return False
    if not _ports(rule.layer4_configs, t.protocol, t.port):
        return False
    sender, receiver = (t.instance, t.peer) if t.direction == "EGRESS" else (t.peer, t.instance)
    other_sources = [f for f in rule.unevaluable if f in ALTERNATIVE_SOURCES]
    other_destinations = [f for f in rule.unevaluable if f in ALTERNATIVE_DESTINATIONS]
    narrowing = [f for f in rule.unevaluable if f in NARROWING]
    parts: list[Match] = [_targets(rule, t)]
    if t.direction == "EGRESS":
        parts.append(_alternatives(rule.dest_ip_ranges, other_destinations, receiver))
        parts.append(_overlaps(rule.src_ip_ranges, sender) if rule.src_ip_ranges else True)
    else:
        parts.append(_alternatives(rule.src_ip_ranges, other_sources, sender, rule.src_secure_tags))
        parts.append(_overlaps(rule.dest_ip_ranges, receiver) if rule.dest_ip_ranges else True)
    if narrowing:
        parts.append(f"it matches on {', '.join(narrowing)}, which infradiag cannot evaluate")
    return _all(parts)


def _policy_decision(policy: FirewallPolicyEvidence, traffic: Traffic) -> Decision | None:
    """The decision of one policy: its first matching rule's, or None when it passes the connection on (a
    goto_next rule, or no rule matches)."""
    layer = LAYER_OF_TYPE[policy.type]  # evaluate() decides nothing by a policy of an unknown type
    # Priorities are unique within a policy; should two tie, a deny is taken first, as for VPC rules.
    for rule in sorted(policy.rules, key=lambda r: (r.priority, r.action != "deny")):
        match = policy_rule_matches(rule, traffic)
        if match is False:
            continue
        if isinstance(match, str):
            why = f"rule {rule.priority} of firewall policy {policy_label(policy)} may apply: {match}"
            return Decision(None, layer, policy=policy, policy_rule=rule, undetermined=why)
        if rule.action == "goto_next":
            return None
        if rule.action not in (*FINAL_ALLOW, "deny"):
            # `action` is a free string in the API: an action added after this was written decides nothing
            # we can tell, so neither a pass nor a block is claimed.
            why = f"rule {rule.priority} of firewall policy {policy_label(policy)} has action {rule.action!r}"
            return Decision(None, layer, policy=policy, policy_rule=rule, undetermined=why)
        return Decision(rule.action in FINAL_ALLOW, layer, policy=policy, policy_rule=rule)
    return None


def _vpc_decision(firewalls: list[FirewallEvidence], traffic: Traffic) -> Decision | None:
    best = deciding_rule(firewalls, traffic)
    return None if best is None else Decision(best.action == "allow", "vpc", vpc_rule=best)


def evaluate(
    firewalls: list[FirewallEvidence], policies: NetworkPoliciesEvidence | None, traffic: Traffic
) -> Decision:
    """The decision on `traffic` by every layer in Google's order (module docstring). With `policies` None
    (the policies in effect could not be read) it is undetermined: a hierarchical policy could decide either
    way before any VPC rule is looked at."""
    if policies is None:
        return Decision(
            None,
            "unknown",
            undetermined=f"the firewall policies in effect on network {traffic.network} could not be read",
        )
    unknown_types = [p for p in policies.policies if p.type not in LAYER_OF_TYPE]
    if unknown_types:
        names = ", ".join(f"{policy_label(p)} ({p.type})" for p in unknown_types)
        return Decision(None, "unknown", undetermined=f"firewall policies of unknown type in effect: {names}")
    by_type: dict[str, list[FirewallPolicyEvidence]] = {}
    for policy in policies.policies:
        by_type.setdefault(LAYER_OF_TYPE[policy.type], []).append(policy)
    network_levels = [*by_type.get("network", []), *by_type.get("regional", [])]
    levels: list[FirewallPolicyEvidence | None] = [*by_type.get("hierarchy", []), *by_type.get("system", [])]
    if policies.enforcement_order == "BEFORE_CLASSIC_FIREWALL":
        levels += [*network_levels, None]
    else:
        levels += [None, *network_levels]
    for level in levels:
        decided = _vpc_decision(firewalls, traffic) if level is None else _policy_decision(level, traffic)
        if decided is not None:
            return decided
    return Decision(traffic.direction == "EGRESS", "implied")
