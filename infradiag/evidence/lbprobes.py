"""Derives, for each instance-group backend of a load balancer, which port each health check probes, whether
that is a port the backend serves, and whether VPC firewall rules admit Google's probes to its instances.

Port selection as the HealthCheck REST reference documents it
(https://cloud.google.com/compute/docs/reference/rest/v1/healthChecks, httpHealthCheck.portSpecification and
the same field of every other type): USE_FIXED_PORT probes `port` (default 80 for HTTP and TCP, 443 for
HTTPS, HTTP2 and SSL; none for gRPC); USE_NAMED_PORT probes the group's named port `portName`;
USE_SERVING_PORT, for instance-group backends, probes "the port number determined by looking up the backend
service's named port in the instance group's list of named ports"; unset, the check "follows behavior
specified in port and portName fields". See also
https://cloud.google.com/load-balancing/docs/health-check-concepts#port_specification.

Probe sources as https://cloud.google.com/load-balancing/docs/health-check-concepts#ip-ranges and
https://cloud.google.com/load-balancing/docs/firewall-rules list them: 35.191.0.0/16 and 130.211.0.0/22 for
every load balancer that uses health checks, except backend service-based external passthrough Network Load
Balancers (regional, scheme EXTERNAL), whose probes come from 35.191.0.0/16, 209.85.152.0/22 and
209.85.204.0/22.
"""

from __future__ import annotations

from infradiag.evidence.firewall_order import Decision, evaluate
from infradiag.evidence.loadbalancing import (
    BackendEvidence,
    BackendInstanceEvidence,
    BackendServiceEvidence,
    HealthCheckEvidence,
    HealthCheckPortEvidence,
    ProbeFirewallEvidence,
)
from infradiag.evidence.network import FirewallEvidence, NetworkPoliciesEvidence
from infradiag.evidence.reachability import RULES_UNREAD, Endpoint, Traffic, deciding_rule

PROBE_RANGES = ("35.191.0.0/16", "130.211.0.0/22")
PASSTHROUGH_NLB_PROBE_RANGES = ("35.191.0.0/16", "209.85.152.0/22", "209.85.204.0/22")
DEFAULT_PORTS = {"HTTP": 80, "TCP": 80, "HTTPS": 443, "HTTP2": 443, "SSL": 443}
# gcloud compute health-checks update <word>, and the Terraform block of each type.
GCLOUD_TYPES = {
    "HTTP": "http",
    "HTTPS": "https",
    "HTTP2": "http2",
    "TCP": "tcp",
    "SSL": "ssl",
    "GRPC": "grpc",
    "GRPC_WITH_TLS": "grpc-with-tls",
}
# The HealthCheck field holding each type's settings
# (https://cloud.google.com/compute/docs/reference/rest/v1/healthChecks), in the client library's snake_case;
# google_compute_health_check names its block for each type the same way.
SETTINGS_FIELDS = {
    "HTTP": "http_health_check",
    "HTTPS": "https_health_check",
    "HTTP2": "http2_health_check",
    "TCP": "tcp_health_check",
    "SSL": "ssl_health_check",
    "GRPC": "grpc_health_check",
    "GRPC_WITH_TLS": "grpc_tls_health_check",
}


def link_key(url: str) -> str:
    """A Compute reference in one form whatever its spelling (full or partial URL): from `projects/` on."""
    index = url.find("projects/")
    return url[index:] if index >= 0 else url


def probe_ranges(service: BackendServiceEvidence) -> tuple[str, ...]:
    """The source ranges of the health-check probes of `service`'s load balancer."""
    if service.region is not None and service.load_balancing_scheme == "EXTERNAL":
        return PASSTHROUGH_NLB_PROBE_RANGES
    return PROBE_RANGES


def specification(check: HealthCheckEvidence) -> str:
    """The port specification in force: as written, or, unset, what `port` and `portName` say."""
    if check.port_specification:
        return check.port_specification
    if check.port is None and check.port_name:
        return "USE_NAMED_PORT"
    return "USE_FIXED_PORT"


def _location(link: str) -> str:
    parts = link_key(link).split("/")
    for kind, flag in (("zones", "--zone"), ("regions", "--region")):
        if kind in parts:
            return f"{flag} {parts[parts.index(kind) + 1]}"
    return "--global"


def _short(link: str) -> str:
    return link.rstrip("/").rsplit("/", 1)[-1]


def probe_port(
    service: BackendServiceEvidence, backend: BackendEvidence, check: HealthCheckEvidence
) -> HealthCheckPortEvidence | None:
    """The ports `check` probes on the instance-group `backend` of `service`, judged against the ports the
    backend service sends traffic to; None when the group's namedPorts were not read.

    A group may map one name to several ports (real groups do: http:8080 and http:8443); a named port
    then resolves to all of them, and a fixed port is fine when it is one of the serving ports.
    """
    if backend.kind != "instance_group" or backend.named_ports is None:
        return None
    ports = backend.named_ports
    spec = specification(check)
    serving = ports.get(service.port_name, []) if service.port_name else []
    # USE_NAMED_PORT and portName are "Not supported" in today's REST reference, yet older checks carry them
    # and the probe then looks the name up in the group as USE_SERVING_PORT looks up the backend service's.
    looked_up = {"USE_NAMED_PORT": check.port_name, "USE_SERVING_PORT": service.port_name}.get(spec)
    fixed = check.port or DEFAULT_PORTS.get(check.type)
    probed = ports.get(looked_up, []) if looked_up else ([fixed] if fixed else [])
    problem, detail = None, ""
    group = _short(backend.group)
    if looked_up is not None and not probed:
        problem = "named_port_missing"
        detail = (
            f"{spec} looks up named port {looked_up}, which instance group {group} does not "
            f"define (its namedPorts: {_ports_text(ports) or 'none'})"
        )
    elif looked_up is None and probed and serving and probed[0] not in serving:
        problem = "fixed_port"
        detail = (
            f"probes fixed port {probed[0]}; {service.name} sends traffic to named port {service.port_name}"
            f" = {_numbers(serving)} on {group}"
        )
    elif looked_up is not None:
        detail = f"probes named port {looked_up} = {_numbers(probed)}"
    elif probed:
        detail = f"probes port {probed[0]}"
    return HealthCheckPortEvidence(
        group=backend.group,
        group_name=group,
        group_location=_location(backend.group),
        group_named_ports=_ports_text(ports),
        health_check=check.name,
        health_check_location=f"--region {check.region}" if check.region else "--global",
        health_check_type=GCLOUD_TYPES.get(check.type, check.type.lower()),
        terraform_type="google_compute_region_health_check"
        if check.region
        else "google_compute_health_check",
        terraform_block=SETTINGS_FIELDS.get(check.type, "http_health_check"),
        specification=spec,
        request_path=check.request_path,
        port_name=looked_up,
        probed_port=probed[0] if probed else None,
        probed_ports=probed,
        serving_port_name=service.port_name,
        serving_port=serving[0] if serving else None,
        serving_ports=serving,
        serving_ports_text=_numbers(serving),
        problem=problem,
        fix=None if problem is None else ("use_serving_port" if serving else "add_named_port"),
        detail=detail,
    )


def _numbers(ports: list[int]) -> str:
    return ", ".join(str(p) for p in ports)


def _ports_text(ports: dict[str, list[int]]) -> str:
    return ",".join(f"{name}:{port}" for name, numbers in ports.items() for port in numbers)


def _endpoint(vm: BackendInstanceEvidence) -> Endpoint:
    address = f"{vm.address}/32" if vm.address else "0.0.0.0/0"
    # Secure tags are bound to instances through Resource Manager tag bindings, which are not read: a policy
    # rule that targets secure tags leaves the verdict undetermined.
    return Endpoint(address, frozenset(vm.tags), frozenset(vm.service_accounts), secure_tags=None)


def _decide(
    firewalls: list[FirewallEvidence] | None, policies: list[NetworkPoliciesEvidence] | None, traffic: Traffic
) -> Decision:
    """Google's order with the policies read; with `policies` None (not collected) the VPC rules alone;
    undetermined with `firewalls` None (the VPC rules could not be read)."""
    if firewalls is None:
        return Decision(None, "unknown", undetermined=RULES_UNREAD)
    if policies is None:
        rule = deciding_rule(firewalls, traffic)
        return Decision(
            rule is not None and rule.action == "allow", "vpc" if rule else "implied", vpc_rule=rule
        )
    in_effect = next((p for p in policies if p.network == traffic.network), None)
    return evaluate(firewalls, in_effect, traffic)


def probe_firewall(
    service: BackendServiceEvidence,
    backend: BackendEvidence,
    port: HealthCheckPortEvidence,
    firewalls: list[FirewallEvidence] | None,
    policies: list[NetworkPoliciesEvidence] | None = None,
) -> ProbeFirewallEvidence | None:
    """Whether ingress rules admit every probe range to every read instance of `backend` on every probed TCP
    port (health checks of every type connect over TCP); None without a port or read instances. With
    `policies` the firewall policies in effect decide too (firewall_order.py); a probe whose fate cannot be
    told, with none blocked, makes `allowed` None."""
    vms = [vm for vm in backend.instances if vm.network]
    if not port.probed_ports or not vms:
        return None
    ranges = probe_ranges(service)
    blocked: list[str] = []
    blocked_ports: list[int] = []
    # The evidence shown: the rule deciding the first blocked probe, else the one admitting the first probe.
    first_blocked: tuple[Decision, str, int] | None = None
    first_admitted: Decision | None = None
    undetermined: str | None = None
    for vm in vms:
        for number in port.probed_ports:
            for source in ranges:
                # The probes come from Google's ranges, not from instances: they carry no secure tag.
                peer = Endpoint(source, secure_tags=frozenset())
                traffic = Traffic(vm.network or "", "INGRESS", _endpoint(vm), peer, number)
                decision = _decide(firewalls, policies, traffic)
                if decision.allowed is None:
                    undetermined = undetermined or decision.undetermined
                    continue
                if decision.allowed:
                    first_admitted = first_admitted or decision
                    continue
                first_blocked = first_blocked or (decision, source, number)
                if vm.name not in blocked:
                    blocked.append(vm.name)
                if number not in blocked_ports:
                    blocked_ports.append(number)
    shown, blocked_range, shown_port = (
        first_blocked if first_blocked is not None else (first_admitted, None, port.probed_ports[0])
    )
    rule = shown.vpc_rule if shown is not None else None
    policy = shown.policy if shown is not None else None
    policy_rule = shown.policy_rule if shown is not None else None
    allowed: bool | None = not blocked
    if not blocked and undetermined is not None:
        allowed = None
    common = sorted(set(vms[0].tags).intersection(*(set(vm.tags) for vm in vms[1:])))
    accounts = sorted(
        set(vms[0].service_accounts).intersection(*(set(vm.service_accounts) for vm in vms[1:]))
    )
    target, target_tf, tags = "", "", []
    if common:
        # A rule applies to instances carrying any one of its target tags: one tag, the common one the fewest
        # instances of the project carry, opens the probes to these instances and the fewest others.
        tag = min(common, key=lambda t: (backend.tag_reach.get(t, 0), t))
        target, target_tf, tags = f"--target-tags {tag}", f'target_tags = ["{tag}"]', [tag]
    elif accounts:
        target = "--target-service-accounts " + accounts[0]
        target_tf = f'target_service_accounts = ["{accounts[0]}"]'
    fix_ports = blocked_ports or port.probed_ports
    scheme = {"http": "http", "https": "https", "http2": "https"}.get(port.health_check_type)
    probe_url = (
        f"{scheme}://{vms[0].address}:{shown_port}{port.request_path or '/'}"
        if scheme and vms[0].address
        else ""
    )
    return ProbeFirewallEvidence(
        group=backend.group,
        group_name=_short(backend.group),
        health_check=port.health_check,
        port=shown_port,
        network=vms[0].network or "",
        ranges=list(ranges),
        allowed=allowed,
        undetermined=undetermined if allowed is None else None,
        deciding_rule=shown.text if shown is not None else None,
        deciding_priority=(
            policy_rule.priority if policy_rule is not None else rule.priority if rule is not None else None
        ),
        deciding_policy=(policy.short_name or policy.name) if policy is not None else None,
        deciding_policy_id=policy.name if policy is not None else None,
        deciding_policy_type=policy.type if policy is not None else None,
        deciding_policy_region=policy.region if policy is not None else None,
        blocked_range=blocked_range,
        blocked_instances=blocked,
        probe_url=probe_url,
        target_tags=tags,
        fix_rule_name=_rule_name(f"{service.name}-allow-health-checks"),
        # A lower number outranks; at equal priority a deny would still win
        # (https://cloud.google.com/firewall/docs/firewalls#priority_order_for_firewall_rules).
        fix_priority=_fix_priority(shown),
        fix_rules=",".join(f"tcp:{p}" for p in fix_ports),
        fix_ports=[str(p) for p in fix_ports],
        fix_target=target,
        fix_target_terraform=target_tf,
    )


def _fix_priority(shown: Decision | None) -> int:
    """A priority that outranks the deciding deny within its layer: one less than the deny's (the VPC rule's
    or the policy rule's), else 1000."""
    if shown is None or shown.allowed:
        return 1000
    if shown.policy_rule is not None:
        return max(shown.policy_rule.priority - 1, 0)
    if shown.vpc_rule is not None:
        return max(shown.vpc_rule.priority - 1, 0)
    return 1000


def _rule_name(name: str) -> str:
    # Compute names are RFC 1035 labels of at most 63 characters
    # (https://cloud.google.com/compute/docs/naming-resources).
    return name[:63].rstrip("-")


def with_probes(
    services: list[BackendServiceEvidence],
    checks: list[HealthCheckEvidence],
    firewalls: list[FirewallEvidence] | None,
    policies: list[NetworkPoliciesEvidence] | None = None,
) -> list[BackendServiceEvidence]:
    """The backend services with, per instance-group backend and health check, the port probed and, for a
    backend with instances that are not healthy, whether the firewall policies (when read) and VPC rules
    admit the probes."""
    by_link = {link_key(c.resource): c for c in checks}
    derived = []
    for service in services:
        ports: list[HealthCheckPortEvidence] = []
        walls: list[ProbeFirewallEvidence] = []
        for backend in service.backends:
            for link in service.health_check_links:
                check = by_link.get(link_key(link))
                if check is None:
                    continue
                port = probe_port(service, backend, check)
                if port is None:
                    continue
                ports.append(port)
                if (backend.unhealthy or 0) > 0:
                    wall = probe_firewall(service, backend, port, firewalls, policies)
                    if wall is not None:
                        walls.append(wall)
        derived.append(service.model_copy(update={"probe_ports": ports, "probe_firewall": walls}))
    return derived
