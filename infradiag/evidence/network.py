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
    """One Cloud NAT gateway of a Cloud Router: its port and address configuration as routers.list returns
    it (documented defaults applied), the port capacity that configuration gives, and its drops over the
    window by reason."""

    name: str
    router: str
    network: str  # short network name
    region: str
    all_subnets: bool  # ALL_SUBNETWORKS_ALL_IP_RANGES or ALL_SUBNETWORKS_ALL_PRIMARY_IP_RANGES
    subnets: list[str] = Field(default_factory=list)  # short names, for LIST_OF_SUBNETWORKS
    # natIpAllocateOption: AUTO_ONLY (Google adds NAT IPs as VMs need them) or MANUAL_ONLY (only natIps);
    # None when the API leaves it out.
    nat_ip_allocate_option: str | None = None
    nat_ips: list[str] = Field(default_factory=list)  # short names of the natIps address resources
    enable_dynamic_port_allocation: bool = False  # "If not specified, it is disabled by default"
    # None: the API left the field out; a conflict drop can only happen while it is on.
    enable_endpoint_independent_mapping: bool | None = None
    min_ports_per_vm: int = 64  # as configured, else the documented default (64 static, 32 dynamic)
    min_ports_per_vm_set: bool = False  # False: min_ports_per_vm is the default
    ports_per_vm: int = 64  # min_ports_per_vm rounded up to a power of two: what each VM is given at least
    max_ports_per_vm: int | None = None  # dynamic port allocation only (default 65536); None otherwise
    # MANUAL_ONLY only (AUTO_ONLY adds addresses on demand): len(nat_ips) x 64512 usable ports, and how
    # many VMs (connector instances, Cloud Run instances) that many ports serve at ports_per_vm each.
    port_capacity: int | None = None
    vms_with_ports: int | None = None
    # Who takes ports from this gateway: the connectors it covers (their most instances over the window, else
    # their minimum) and Cloud Run services with Direct VPC egress into its network (active instances).
    port_users: list[str] = Field(default_factory=list)  # e.g. "connector staging-conn: 4 instances"
    vms_needing_ports: int | None = None  # their sum; None when no user's instance count is known
    # MANUAL_ONLY with vms_needing_ports known: the NAT IPs those VMs need at ports_per_vm, and the largest
    # power of two of ports per VM (at least 32) that lets the current NAT IPs serve them all (None if none).
    # With min_extra_nat_ips_needed > 0, nat_ips_needed is at least len(nat_ips) + that: Google's own count.
    nat_ips_needed: int | None = None
    ports_per_vm_that_fit: int | None = None
    # router.googleapis.com/nat/dropped_sent_packets_count over the window, by its `reason` label; 0 when
    # the query answered without a series for that reason, None when it failed.
    dropped_out_of_resources: float | None = None
    dropped_endpoint_independence_conflict: float | None = None
    allocation_failed: bool | None = None  # nat/nat_allocation_failed seen true
    # routers.getRouterStatus, the gateway's natStatus entry
    # (https://cloud.google.com/compute/docs/reference/rest/v1/routers/getRouterStatus): minExtraNatIpsNeeded
    # ("greater than 0 only if user-specified IPs are NOT enough to allow all configured VMs to use NAT",
    # meaningful for MANUAL_ONLY only) and numVmEndpointsWithNatMappings. None when not read or not returned.
    min_extra_nat_ips_needed: int | None = None
    vm_endpoints_with_mappings: int | None = None


class FirewallPolicyRuleEvidence(EvidenceModel):
    """One rule of a firewall policy as getEffectiveFirewalls returns it (FirewallPolicyRule of
    https://cloud.google.com/compute/docs/reference/rest/v1/networks/getEffectiveFirewalls)."""

    priority: int
    action: str  # allow | deny | goto_next | apply_security_profile_group
    direction: str  # INGRESS | EGRESS
    disabled: bool = False
    rule_name: str | None = None
    src_ip_ranges: list[str] = Field(default_factory=list)
    dest_ip_ranges: list[str] = Field(default_factory=list)
    layer4_configs: list[FirewallPortRule] = Field(default_factory=list)  # empty: every protocol
    src_secure_tags: list[str] = Field(default_factory=list)  # tagValues/ID
    target_secure_tags: list[str] = Field(default_factory=list)
    target_service_accounts: list[str] = Field(default_factory=list)
    target_resources: list[str] = Field(default_factory=list)  # short network names
    # Match fields infradiag cannot evaluate (FQDNs, geolocations, threat intelligence lists, address
    # groups, network types...), by their REST name: a rule with any may or may not match.
    unevaluable: list[str] = Field(default_factory=list)


class FirewallPolicyEvidence(EvidenceModel):
    """One firewall policy in effect on a network: its identity, type and rules by priority."""

    name: str  # the policy's name: a numeric id for hierarchical policies
    short_name: str | None = None  # hierarchical policies' shortName
    type: str  # HIERARCHY | NETWORK | NETWORK_REGIONAL | SYSTEM_GLOBAL | SYSTEM_REGIONAL | ...
    region: str | None = None  # regional network firewall policies
    rules: list[FirewallPolicyRuleEvidence] = Field(default_factory=list)  # lowest priority number first


class NetworkPoliciesEvidence(EvidenceModel):
    """The firewall policies in effect on one network, in the order Google evaluates the hierarchy
    (organization first, then folders from the top down), and the network's enforcement order."""

    network: str  # short network name
    region: str | None = None  # the region whose regional network firewall policies were read
    # networkFirewallPolicyEnforcementOrder; AFTER_CLASSIC_FIREWALL when unset (Network REST reference).
    enforcement_order: str = "AFTER_CLASSIC_FIREWALL"
    policies: list[FirewallPolicyEvidence] = Field(default_factory=list)


class ReachabilityEvidence(EvidenceModel):
    """Whether traffic from a connector's range may leave for a private target, by the firewall policies and
    VPC firewall rules in effect; `allowed` is None when that could not be determined (`undetermined` says
    why), and such a path is never reported as reachable."""

    connector: str  # connector resource name
    target: str  # e.g. the Cloud SQL instance resource name
    address: str
    port: int
    allowed: bool | None
    connector_range: str | None = None  # the connector's /28, or its subnet's range
    # VPC firewall rule name when a VPC rule decided; with deciding_policy also None: an implied rule did.
    deciding_rule: str | None = None
    # When a firewall policy rule decided: "hierarchy" | "network" | "regional" | "system", the policy's
    # short name (or name), its numeric name, the rule's priority and action, and a text naming them.
    deciding_layer: str | None = None
    deciding_policy: str | None = None
    deciding_policy_id: str | None = None
    deciding_policy_type: str | None = None
    deciding_policy_region: str | None = None
    deciding_policy_priority: int | None = None
    deciding_text: str | None = None  # e.g. "policy parent-folder-policy rule 1000"
    undetermined: str | None = None  # why `allowed` is None
    # Blocked paths: allow rules that match this traffic and outrank the deciding rule, but whose targets
    # (tags or service accounts) leave the connector's instances out.
    allows_not_applying: list[str] = Field(default_factory=list)
