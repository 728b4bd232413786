"""VPC evidence: subnets, firewall rules, Cloud NAT, and whether connectors reach their targets."""

from __future__ import annotations

from pydantic import Field

from infradiag.evidence.base import EvidenceModel


class SubnetEvidence(EvidenceModel):
    name: str
    resource: str  # selfLink
    network: str  # short network name
    region: str
    ip_cidr_range: str
    prefix_length: int
    usable_addresses: int  # Google reserves 4 addresses in every primary range


class FirewallPortRule(EvidenceModel):
    protocol: str  # tcp | udp | icmp | all ...
    ports: list[str] = Field(default_factory=list)  # "5432", "1000-2000"; empty: every port


class FirewallEvidence(EvidenceModel):
    name: str
    network: str  # short network name
    direction: str  # INGRESS | EGRESS
    priority: int = 1000
    action: str  # allow | deny
    rules: list[FirewallPortRule] = Field(default_factory=list)
    source_ranges: list[str] = Field(default_factory=list)
    destination_ranges: list[str] = Field(default_factory=list)
    # Targets; with neither, every instance of the network
    # (https://cloud.google.com/compute/docs/reference/rest/v1/firewalls).
    target_tags: list[str] = Field(default_factory=list)
    target_service_accounts: list[str] = Field(default_factory=list)
    # Ingress sources besides source_ranges: instances by network tag or by service account.
    source_tags: list[str] = Field(default_factory=list)
    source_service_accounts: list[str] = Field(default_factory=list)
    disabled: bool = False


class NatEvidence(EvidenceModel):
    """One Cloud NAT gateway of a Cloud Router, with its drops over the window."""

    name: str
    router: str
    network: str  # short network name
    region: str
    all_subnets: bool  # ALL_SUBNETWORKS_ALL_IP_RANGES or ALL_SUBNETWORKS_ALL_PRIMARY_IP_RANGES
    subnets: list[str] = Field(default_factory=list)  # short names, for LIST_OF_SUBNETWORKS
    dropped_out_of_resources: float | None = None  # nat/dropped_sent_packets_count, OUT_OF_RESOURCES
    allocation_failed: bool | None = None  # nat/nat_allocation_failed seen true


class ReachabilityEvidence(EvidenceModel):
    """Whether traffic from a connector's range may leave for a private target, by the firewall rules."""

    connector: str  # connector resource name
    target: str  # e.g. the Cloud SQL instance resource name
    address: str
    port: int
    allowed: bool
    deciding_rule: str | None = None  # firewall rule name; None: the implied rule decided
    # Blocked paths: allow rules that match this traffic and outrank the deciding rule, but whose targets
    # (tags or service accounts) leave the connector's instances out.
    allows_not_applying: list[str] = Field(default_factory=list)
