"""Load balancer evidence: backend services, their backends' health, health checks, and what follows from
them (which port each health check probes, whether the firewall admits the probes)."""

from __future__ import annotations

from pydantic import Field

from infradiag.evidence.base import EvidenceModel


class BackendInstanceEvidence(EvidenceModel):
    """One VM of an instance-group backend, as firewall rules see it (nic0, where probes arrive)."""

    name: str
    resource: str  # selfLink
    network: str | None = None  # short network name of nic0
    address: str | None = None  # nic0 networkIP
    tags: list[str] = Field(default_factory=list)
    service_accounts: list[str] = Field(default_factory=list)  # emails


class BackendEvidence(EvidenceModel):
    group: str  # selfLink of the NEG or instance group
    kind: str  # serverless_neg | neg | instance_group
    cloud_run_service: str | None = None  # for serverless NEGs: the Cloud Run service short name
    healthy: int | None = None  # from getHealth; None when not asked (serverless NEGs have no health)
    unhealthy: int | None = None
    # Instance groups: their namedPorts (name -> ports: a name may map to several); None when not read.
    named_ports: dict[str, list[int]] | None = None
    # The instances getHealth reports for this group (selfLinks), and those read with their tags.
    instance_links: list[str] = Field(default_factory=list)
    instances: list[BackendInstanceEvidence] = Field(default_factory=list)
    # For each network tag of those instances: how many instances of the project carry it (the fewer, the
    # fewer other VMs a rule targeting it also opens).
    tag_reach: dict[str, int] = Field(default_factory=dict)


class HealthCheckPortEvidence(EvidenceModel):
    """Which port one health check probes on one instance-group backend, and what is wrong with it.

    `problem` is set when the probe goes where the backend does not serve: `fixed_port` (a fixed port other
    than the backend service's named port resolves to), `named_port_missing` (the named port the probe, or
    the backend service, uses is not one of the group's namedPorts).
    """

    group: str  # instance group selfLink
    group_name: str
    group_location: str  # "--zone ZONE" or "--region REGION", as gcloud takes it
    group_named_ports: str  # the group's namedPorts as gcloud writes them: "http:8080,admin:9000"
    health_check: str  # short name
    health_check_location: str  # "--global" or "--region REGION"
    health_check_type: str  # gcloud's word: http, https, http2, tcp, ssl, grpc
    terraform_type: str  # google_compute_health_check | google_compute_region_health_check
    terraform_block: str  # http_health_check, tcp_health_check...
    specification: str  # USE_FIXED_PORT | USE_NAMED_PORT | USE_SERVING_PORT (resolved when unset)
    request_path: str | None = None  # HTTP, HTTPS, HTTP2 checks: the path asked for ("/" when unset)
    port_name: str | None = None  # the named port looked up (USE_NAMED_PORT, USE_SERVING_PORT)
    probed_port: int | None = None  # the first of probed_ports; None: the named port is missing
    probed_ports: list[int] = Field(default_factory=list)
    serving_port_name: str | None = None  # the backend service's portName
    serving_port: int | None = None  # the first of serving_ports; None: unknown or missing
    serving_ports: list[int] = Field(default_factory=list)  # its values on the group
    serving_ports_text: str = ""  # "8080" or "8080, 8443"
    problem: str | None = None  # fixed_port | named_port_missing
    # use_serving_port: the backend service's named port resolves on the group, so the check should probe
    # it; add_named_port: it does not, so the group lacks the port traffic goes to.
    fix: str | None = None
    detail: str = ""  # one line: what is probed against what is served


class ProbeFirewallEvidence(EvidenceModel):
    """Whether the firewall policies and VPC firewall rules in effect admit Google's health-check probes to
    the instances of one group; `allowed` None when that cannot be told (`undetermined` says why)."""

    group: str
    group_name: str
    health_check: str
    port: int  # the probed port shown: the first blocked one, else the first probed
    protocol: str = "tcp"
    network: str  # short network name
    ranges: list[str]  # the probe source ranges this load balancer's health checks use
    allowed: bool | None
    undetermined: str | None = None
    # When a firewall policy rule decides the probe shown: the policy's name (shortName for hierarchical
    # ones), its numeric id, type (HIERARCHY, NETWORK, NETWORK_REGIONAL) and region; deciding_rule then reads
    # "policy NAME rule PRIORITY" and deciding_priority is the rule's priority.
    deciding_policy: str | None = None
    deciding_policy_id: str | None = None
    deciding_policy_type: str | None = None
    deciding_policy_region: str | None = None
    # The rule that decides for the first blocked (or, when all are admitted, the first) instance and range;
    # None: the implied deny-all ingress rule.
    deciding_rule: str | None = None
    deciding_priority: int | None = None
    blocked_range: str | None = None
    blocked_instances: list[str] = Field(default_factory=list)  # short names
    # What an HTTP-like check asks for, at the first instance: "http://10.0.0.11:8080/healthz"; "" otherwise.
    probe_url: str = ""
    target_tags: list[str] = Field(default_factory=list)  # the tags every instance of the group carries
    # The proposed allow rule: its name, a priority that outranks the deciding deny (lower number; 1000
    # when the implied deny decides), and its targets as gcloud flags (the instances' common tags, else
    # their service account, else empty: every instance of the network).
    fix_rule_name: str = ""
    fix_priority: int = 1000
    fix_rules: str = ""  # gcloud --rules: the blocked probed ports, "tcp:8080,tcp:8443"
    fix_ports: list[str] = Field(default_factory=list)  # the same ports, for Terraform
    fix_target: str = ""
    fix_target_terraform: str = ""


class BackendServiceEvidence(EvidenceModel):
    name: str
    resource: str  # selfLink
    region: str | None = None  # None: global
    protocol: str | None = None
    load_balancing_scheme: str | None = None
    port_name: str | None = None  # the instance groups' named port traffic goes to
    timeout_sec: int = 30  # Compute default when unset
    health_checks: list[str] = Field(default_factory=list)  # short names
    health_check_links: list[str] = Field(default_factory=list)  # as the backend service names them
    outlier_detection: bool = False
    backends: list[BackendEvidence] = Field(default_factory=list)
    # Derived (infradiag/evidence/lbprobes.py): per instance-group backend and health check.
    probe_ports: list[HealthCheckPortEvidence] = Field(default_factory=list)
    probe_firewall: list[ProbeFirewallEvidence] = Field(default_factory=list)


class HealthCheckEvidence(EvidenceModel):
    name: str
    resource: str
    type: str  # HTTP | HTTPS | HTTP2 | TCP | ...
    region: str | None = None  # None: global
    port: int | None = None  # as written; see port_specification
    port_name: str | None = None
    port_specification: str | None = None  # USE_FIXED_PORT | USE_NAMED_PORT | USE_SERVING_PORT; None: unset
    request_path: str | None = None
