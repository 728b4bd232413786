"""Plain, typed evidence: what probe and collect hand to the diagnosis. No GCP client objects here."""

from infradiag.evidence.cloudrun import (
    ConditionEvidence,
    InvokerEvidence,
    RevisionEvidence,
    ServiceLoadEvidence,
    TrafficTargetEvidence,
)
from infradiag.evidence.loadbalancing import BackendEvidence, BackendServiceEvidence, HealthCheckEvidence
from infradiag.evidence.model import (
    ConnectorEvidence,
    Evidence,
    MetricSeries,
    Outcome,
    ProbePhases,
    ProbeResult,
    ProbeTarget,
    ServiceEvidence,
    Unknown,
)
from infradiag.evidence.network import (
    FirewallEvidence,
    FirewallPolicyEvidence,
    FirewallPolicyRuleEvidence,
    FirewallPortRule,
    NatEvidence,
    NetworkPoliciesEvidence,
    ReachabilityEvidence,
    SubnetEvidence,
)
from infradiag.evidence.observability import AlertPolicyEvidence
from infradiag.evidence.sql import SqlInstanceEvidence

__all__ = [
    "AlertPolicyEvidence",
    "BackendEvidence",
    "BackendServiceEvidence",
    "ConditionEvidence",
    "ConnectorEvidence",
    "Evidence",
    "FirewallEvidence",
    "FirewallPolicyEvidence",
    "FirewallPolicyRuleEvidence",
    "FirewallPortRule",
    "HealthCheckEvidence",
    "InvokerEvidence",
    "MetricSeries",
    "NatEvidence",
    "NetworkPoliciesEvidence",
    "Outcome",
    "ProbePhases",
    "ProbeResult",
    "ProbeTarget",
    "ReachabilityEvidence",
    "RevisionEvidence",
    "ServiceEvidence",
    "ServiceLoadEvidence",
    "SqlInstanceEvidence",
    "SubnetEvidence",
    "TrafficTargetEvidence",
    "Unknown",
]
