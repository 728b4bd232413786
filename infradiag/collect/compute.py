"""Compute Engine v1 networking: firewall rules, subnetworks and Cloud NAT gateways, as evidence.

One list call per resource type. Subnetworks and routers are regional and a triage looks at one region, so
the regional list is one call and returns only what matters (aggregatedList would also be one call, with every
other region's resources to throw away). Firewall rules are global.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from infradiag.collect.api import COMPUTE, Read, Route
from infradiag.collect.calls import Timeout
from infradiag.evidence import FirewallEvidence, FirewallPortRule, NatEvidence, SubnetEvidence

# https://cloud.google.com/compute/docs/reference/rest/v1/firewalls: priority defaults to 1000, direction
# to INGRESS and network to global/networks/default when unset.
DEFAULT_FIREWALL_PRIORITY = 1000
DEFAULT_NETWORK = "default"
# https://cloud.google.com/vpc/docs/subnets#unusable-ip-addresses-in-every-subnet: Google reserves four
# addresses in every primary IPv4 range (network, default gateway, second-to-last, broadcast).
RESERVED_PER_SUBNET = 4
# https://cloud.google.com/compute/docs/reference/rest/v1/routers: sourceSubnetworkIpRangesToNat values that
# cover every subnetwork of the region.
ALL_SUBNETWORKS = ("ALL_SUBNETWORKS_ALL_IP_RANGES", "ALL_SUBNETWORKS_ALL_PRIMARY_IP_RANGES")
# Cloud NAT ports, https://cloud.google.com/nat/docs/ports-and-addresses: each NAT IP address offers 64,512
# source ports per protocol (65,536 less the 1,024 well-known ones), a MANUAL_ONLY gateway serves at most
# (NAT IPs x 64,512) / ports per VM VMs, and static port allocation gives 64 ports per VM by default.
# RouterNat (https://cloud.google.com/compute/docs/reference/rest/v1/routers): minPortsPerVm "is rounded up
# to the nearest power of 2"; enableDynamicPortAllocation "if not specified, it is disabled by default", and
# with it minPortsPerVm defaults to 32 and maxPortsPerVm to 65,536 (maxPortsPerVm has no effect without it).
# enableEndpointIndependentMapping documents no default there (a Google KB article calls it "enabled by
# default", gcloud's create only has a flag to enable it), so an unset value stays unknown, never guessed.
PORTS_PER_NAT_IP = 64_512
STATIC_DEFAULT_MIN_PORTS = 64
DYNAMIC_DEFAULT_MIN_PORTS = 32
DYNAMIC_DEFAULT_MAX_PORTS = 65_536
# The smallest minPortsPerVm worth proposing: dynamic port allocation needs a power of two of at least 32
# (RouterNat.enableDynamicPortAllocation, same page).
LEAST_PORTS_PER_VM = 32


_PROJECT = "/compute/v1/projects/{project}"
FIREWALLS = Read(
    "firewalls",
    COMPUTE,
    "compute.firewalls.list",
    paginated=True,
    consequence="firewall rules could not be read: whether connectors reach private targets",
    field="firewalls",
    route=Route("GET", f"{_PROJECT}/global/firewalls"),
    fetch=lambda s, d: list_firewalls(s.clients.firewalls, s.project, d),
)
SUBNETS = Read(
    "subnets",
    COMPUTE,
    "compute.subnetworks.list",
    paginated=True,
    consequence="subnet sizes could not be read (vpc.direct_egress_subnet_small)",
    field="subnets",
    route=Route("GET", f"{_PROJECT}/regions/{{region}}/subnetworks"),
    fetch=lambda s, d: list_subnetworks(s.clients.subnetworks, s.project, s.region, d),
)
NATS = Read(
    "nats",
    COMPUTE,
    "compute.routers.list",
    paginated=True,
    consequence="Cloud NAT gateways could not be read (vpc.egress_without_nat)",
    field="nats",
    route=Route("GET", f"{_PROJECT}/regions/{{region}}/routers"),
)
ROUTER_STATUS = Read(
    "router_status",
    COMPUTE,
    "compute.routers.getRouterStatus",
    paginated=False,
    consequence="Cloud Router status could not be read: NAT IPs a MANUAL_ONLY gateway lacks are seen only "
    "through Monitoring (vpc.nat_exhausted)",
    field="nats",
    route=Route("GET", f"{_PROJECT}/regions/{{region}}/routers/{{router}}/getRouterStatus"),
)
READS = (FIREWALLS, SUBNETS, NATS, ROUTER_STATUS)


def short(url: str) -> str:
    """The last path segment of a Compute URL or resource name (a network, subnet, region... name)."""
    return url.rstrip("/").rsplit("/", 1)[-1]


def list_firewalls(client: Any, project: str, timeout: Timeout) -> list[FirewallEvidence]:
    """Every VPC firewall rule of the project (one paginated list call)."""
    return [firewall_evidence(f) for f in client.list(project=project, timeout=timeout, retry=None)]


def list_subnetworks(client: Any, project: str, region: str, timeout: Timeout) -> list[SubnetEvidence]:
    """Every subnetwork in the region (one paginated list call)."""
    pager = client.list(project=project, region=region, timeout=timeout, retry=None)
    return [subnet_evidence(s) for s in pager]


def list_nats(client: Any, project: str, region: str, timeout: Timeout) -> list[NatEvidence]:
    """Every Cloud NAT gateway of every Cloud Router in the region (one paginated list call); their drops
    are joined in from Monitoring."""
    pager = client.list(project=project, region=region, timeout=timeout, retry=None)
    return [nat for router in pager for nat in nat_evidence(router)]


@dataclass(frozen=True)
class NatStatus:
    """One natStatus entry of routers.getRouterStatus (RouterStatusNatStatus): None where Google left the
    field out."""

    min_extra_nat_ips_needed: int | None
    vm_endpoints_with_mappings: int | None


def routers_with_nat(nats: list[NatEvidence]) -> list[str]:
    """The routers (by name, in the order first seen) that hold at least one of these NAT gateways: the only
    ones whose status says anything about NAT."""
    return list(dict.fromkeys(nat.router for nat in nats))


def get_nat_status(
    client: Any, project: str, region: str, router: str, timeout: Timeout
) -> dict[str, NatStatus]:
    """The NAT status of one Cloud Router by gateway name (one routers.getRouterStatus call, a GET,
    https://cloud.google.com/compute/docs/reference/rest/v1/routers/getRouterStatus); {} when the router's
    status holds no natStatus."""
    response = client.get_router_status(
        project=project, region=region, router=router, timeout=timeout, retry=None
    )
    found: dict[str, NatStatus] = {}
    for status in response.result.nat_status:
        # Proto3 optional fields: presence tells a returned 0 from a field Google left out.
        found[status.name] = NatStatus(
            min_extra_nat_ips_needed=(
                status.min_extra_nat_ips_needed if "min_extra_nat_ips_needed" in status else None
            ),
            vm_endpoints_with_mappings=(
                status.num_vm_endpoints_with_nat_mappings
                if "num_vm_endpoints_with_nat_mappings" in status
                else None
            ),
        )
    return found


def with_nat_status(
    nats: list[NatEvidence], statuses: Mapping[str, Mapping[str, NatStatus]]
) -> list[NatEvidence]:
    """NAT gateways with their router's natStatus entry joined by (router, gateway name); a gateway whose
    router status was not read, or has no entry for it, keeps None."""
    joined = []
    for nat in nats:
        status = statuses.get(nat.router, {}).get(nat.name)
        if status is None:
            joined.append(nat)
            continue
        joined.append(
            nat.model_copy(
                update={
                    "min_extra_nat_ips_needed": status.min_extra_nat_ips_needed,
                    "vm_endpoints_with_mappings": status.vm_endpoints_with_mappings,
                }
            )
        )
    return joined


def firewall_evidence(firewall: Any) -> FirewallEvidence:
    """One compute_v1.Firewall with every field its evaluation needs (network, direction, priority, action,
    protocols and ports, source and destination ranges, target and source tags and service accounts,
    disabled); a rule has either `allowed` or `denied` entries, never both."""
    entries = firewall.allowed or firewall.denied
    return FirewallEvidence(
        name=firewall.name,
        network=short(firewall.network) if firewall.network else DEFAULT_NETWORK,
        direction=firewall.direction or "INGRESS",
        priority=firewall.priority if "priority" in firewall else DEFAULT_FIREWALL_PRIORITY,
        action="allow" if firewall.allowed else "deny",
        rules=[FirewallPortRule(protocol=e.I_p_protocol.lower(), ports=list(e.ports)) for e in entries],
        source_ranges=list(firewall.source_ranges),
        destination_ranges=list(firewall.destination_ranges),
        target_tags=list(firewall.target_tags),
        target_service_accounts=list(firewall.target_service_accounts),
        source_tags=list(firewall.source_tags),
        source_service_accounts=list(firewall.source_service_accounts),
        disabled=bool(firewall.disabled),
    )


def subnet_evidence(subnet: Any) -> SubnetEvidence:
    """One compute_v1.Subnetwork with the size of its primary range."""
    prefix = ipaddress.ip_network(subnet.ip_cidr_range, strict=False).prefixlen
    return SubnetEvidence(
        name=subnet.name,
        resource=subnet.self_link or subnet.name,
        network=short(subnet.network),
        region=short(subnet.region),
        ip_cidr_range=subnet.ip_cidr_range,
        prefix_length=prefix,
        usable_addresses=max(0, 2 ** (32 - prefix) - RESERVED_PER_SUBNET),
    )


def _power_of_two_at_least(n: int) -> int:
    return 1 << max(0, n - 1).bit_length()


def nat_evidence(router: Any) -> list[NatEvidence]:
    """The NAT gateways (router.nats[]) of one compute_v1.Router, each with its port and address
    configuration (documented defaults where a field is unset) and, for MANUAL_ONLY, the number of VMs its
    NAT IPs give ports to."""
    return [_one_nat(router, nat) for nat in router.nats]


def _one_nat(router: Any, nat: Any) -> NatEvidence:
    dynamic = bool(nat.enable_dynamic_port_allocation)
    default_min = DYNAMIC_DEFAULT_MIN_PORTS if dynamic else STATIC_DEFAULT_MIN_PORTS
    min_set = "min_ports_per_vm" in nat and nat.min_ports_per_vm > 0
    min_ports = nat.min_ports_per_vm if min_set else default_min
    ports_per_vm = _power_of_two_at_least(min_ports)
    max_ports = None
    if dynamic:
        max_ports = nat.max_ports_per_vm if "max_ports_per_vm" in nat else DYNAMIC_DEFAULT_MAX_PORTS
    option = nat.nat_ip_allocate_option or None
    capacity = vms = None
    if option == "MANUAL_ONLY":
        capacity = len(nat.nat_ips) * PORTS_PER_NAT_IP
        vms = capacity // ports_per_vm
    eim = nat.enable_endpoint_independent_mapping if "enable_endpoint_independent_mapping" in nat else None
    return NatEvidence(
        name=nat.name,
        router=router.name,
        network=short(router.network),
        region=short(router.region),
        all_subnets=nat.source_subnetwork_ip_ranges_to_nat in ALL_SUBNETWORKS,
        subnets=[short(s.name) for s in nat.subnetworks],
        nat_ip_allocate_option=option,
        nat_ips=[short(ip) for ip in nat.nat_ips],
        enable_dynamic_port_allocation=dynamic,
        enable_endpoint_independent_mapping=eim,
        min_ports_per_vm=min_ports,
        min_ports_per_vm_set=min_set,
        ports_per_vm=ports_per_vm,
        max_ports_per_vm=max_ports,
        port_capacity=capacity,
        vms_with_ports=vms,
    )


def with_port_demand(nat: NatEvidence, users: list[str], vms: int | None) -> NatEvidence:
    """The gateway with who takes its ports and how many VMs they are, and, for a MANUAL_ONLY gateway, the
    NAT IPs those VMs need at its ports per VM (ceil(VMs x ports per VM / 64,512), or its NAT IPs plus the
    minExtraNatIpsNeeded of its router status when that is more) and the largest power of two of ports per
    VM its current NAT IPs could give them all."""
    update: dict[str, Any] = {"port_users": users, "vms_needing_ports": vms}
    needed: list[int] = []
    if vms and nat.port_capacity is not None:
        needed.append(-(-vms * nat.ports_per_vm // PORTS_PER_NAT_IP))
        fit = nat.port_capacity // vms
        largest = 1 << (fit.bit_length() - 1) if fit > 0 else 0
        update["ports_per_vm_that_fit"] = largest if largest >= LEAST_PORTS_PER_VM else None
    extra = nat.min_extra_nat_ips_needed
    if extra and extra > 0 and nat.port_capacity is not None:
        # Google's count of the NAT IPs its VM endpoints need (routers.getRouterStatus) also counts VMs no
        # connector or Cloud Run service explains; the larger of the two is what the gateway needs.
        needed.append(len(nat.nat_ips) + extra)
    if needed:
        update["nat_ips_needed"] = max(needed)
    return nat.model_copy(update=update)
