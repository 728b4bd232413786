"""The firewall policies in effect on a network, as evidence (read-only).

Two reads per network, and a third only when it matters:
- networks.getEffectiveFirewalls
  (https://cloud.google.com/compute/docs/reference/rest/v1/networks/getEffectiveFirewalls): the hierarchical
  policies (type HIERARCHY, the organization's first, then the folders' from the top down, the order the
  response lists them in) and the global network firewall policy (NETWORK);
- regionNetworkFirewallPolicies.getEffectiveFirewalls
  (https://cloud.google.com/compute/docs/reference/rest/v1/regionNetworkFirewallPolicies/getEffectiveFirewalls):
  the regional network firewall policies (NETWORK_REGIONAL) of the region, which the first leaves out;
- networks.get, for networkFirewallPolicyEnforcementOrder, only when a network firewall policy is in effect
  (with none, the order changes nothing).

Both getEffectiveFirewalls need compute.networks.getEffectiveFirewalls (and the regional one
compute.networks.getRegionEffectiveFirewalls), which roles/compute.networkViewer grants.
"""

from __future__ import annotations

from typing import Any

from infradiag.collect.api import COMPUTE, Read, Route
from infradiag.collect.calls import Timeout
from infradiag.collect.compute import short
from infradiag.evidence import (
    FirewallPolicyEvidence,
    FirewallPolicyRuleEvidence,
    FirewallPortRule,
    NetworkPoliciesEvidence,
)
from infradiag.evidence.firewall_order import UNEVALUABLE

# Policy types each read contributes, so that a policy both return is counted once.
GLOBAL_TYPES = ("HIERARCHY", "NETWORK", "SYSTEM", "SYSTEM_GLOBAL", "UNSPECIFIED")
REGIONAL_TYPES = ("NETWORK_REGIONAL", "SYSTEM_REGIONAL")
NETWORK_POLICY_TYPES = ("NETWORK", "NETWORK_REGIONAL")
# Network REST reference: "Defaults to AFTER_CLASSIC_FIREWALL if the field is not specified."
DEFAULT_ENFORCEMENT_ORDER = "AFTER_CLASSIC_FIREWALL"
# FirewallPolicyRuleSecureTag.state: an INEFFECTIVE tag (its network differs) is ignored by the rule.
INEFFECTIVE = "INEFFECTIVE"

FIREWALL_POLICIES = Read(
    "firewall_policies",
    COMPUTE,
    "compute.networks.getEffectiveFirewalls",
    paginated=False,
    consequence="firewall policies in effect could not be read: whether connectors reach private targets is "
    "undetermined (vpc_connector.firewall_blocked)",
    field="firewall_policies",
    route=Route("GET", "/compute/v1/projects/{project}/global/networks/{network}/getEffectiveFirewalls"),
)
READS = (FIREWALL_POLICIES,)


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


def _tags(tags: Any) -> list[str]:
    return [t.name for t in tags if t.state != INEFFECTIVE]


def _ignored(rule: Any) -> bool:
    """Whether Google ignores the rule for its secure tags (FirewallPolicyRule reference): every target secure
    tag INEFFECTIVE, or, on ingress, every source secure tag INEFFECTIVE and no srcIpRanges. Dropping those
    tags would instead leave a rule that applies to every instance or matches every source."""
    targets, sources = rule.target_secure_tags, rule.match.src_secure_tags
    if targets and not _tags(targets):
        return True
    ingress = (rule.direction or "INGRESS") == "INGRESS"
    return ingress and bool(sources) and not _tags(sources) and not rule.match.src_ip_ranges


def rule_evidence(rule: Any) -> FirewallPolicyRuleEvidence:
    """One compute_v1.FirewallPolicyRule with every match field its evaluation reads, and the names of the
    match fields it sets that infradiag cannot evaluate."""
    match = rule.match
    unevaluable = []
    for field in UNEVALUABLE:
        attribute = _snake(field)
        value = getattr(match, attribute)
        if (attribute in match) if isinstance(value, str) else bool(value):
            unevaluable.append(field)
    return FirewallPolicyRuleEvidence(
        priority=rule.priority,
        action=rule.action,
        direction=rule.direction or "INGRESS",
        disabled=bool(rule.disabled) or _ignored(rule),
        rule_name=rule.rule_name or None,
        src_ip_ranges=list(match.src_ip_ranges),
        dest_ip_ranges=list(match.dest_ip_ranges),
        layer4_configs=[
            FirewallPortRule(protocol=c.ip_protocol.lower(), ports=list(c.ports))
            for c in match.layer4_configs
        ],
        src_secure_tags=_tags(match.src_secure_tags),
        target_secure_tags=_tags(rule.target_secure_tags),
        target_service_accounts=list(rule.target_service_accounts),
        target_resources=[short(r) for r in rule.target_resources],
        unevaluable=unevaluable,
    )


def policy_evidence(policy: Any, region: str | None = None) -> FirewallPolicyEvidence:
    """One effective firewall policy of a getEffectiveFirewalls answer, its rules by priority."""
    rules = sorted((rule_evidence(r) for r in policy.rules), key=lambda r: r.priority)
    return FirewallPolicyEvidence(
        name=policy.name,
        # The regional answer's EffectiveFirewallPolicy has no shortName field at all.
        short_name=getattr(policy, "short_name", "") or None,
        type=policy.type_,
        region=region if policy.type_ in REGIONAL_TYPES else None,
        rules=rules,
    )


def read_network_policies(
    networks: Any, regional: Any, project: str, network: str, region: str, timeout: Timeout
) -> NetworkPoliciesEvidence:
    """The firewall policies in effect on `network` for instances in `region`, in evaluation order of the
    hierarchy, with the network's enforcement order (read only when a network firewall policy is in
    effect)."""
    answer = networks.get_effective_firewalls(project=project, network=network, timeout=timeout, retry=None)
    policies = [policy_evidence(p) for p in answer.firewall_policys if p.type_ in GLOBAL_TYPES]
    in_region = regional.get_effective_firewalls(
        project=project, region=region, network=network, timeout=timeout, retry=None
    )
    policies += [policy_evidence(p, region) for p in in_region.firewall_policys if p.type_ in REGIONAL_TYPES]
    order = DEFAULT_ENFORCEMENT_ORDER
    if any(p.type in NETWORK_POLICY_TYPES for p in policies):
        found = networks.get(project=project, network=network, timeout=timeout, retry=None)
        order = found.network_firewall_policy_enforcement_order or DEFAULT_ENFORCEMENT_ORDER
    return NetworkPoliciesEvidence(network=network, region=region, enforcement_order=order, policies=policies)
