"""Writes the Cloud NAT scenarios beyond cause-vpc-nat-exhausted: a MANUAL_ONLY gateway whose one NAT IP has
ports for too few VMs (seen through Monitoring, or only through its router status), and endpoint-independent
mapping conflicts.

Run from the repository root: `python scenarios/build/nat_cases.py` (rewrites scenarios/cause-vpc-nat-*.yaml
but cause-vpc-nat-exhausted.yaml, which scenarios/build/causes.py writes).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from fleet import (
    MINUTES,
    NAT,
    NETWORK,
    NOW,
    PUBSUB_RESET,
    REGION,
    REGION_URL,
    Fleet,
    Scenarios,
    cause,
    expectation,
    nat_gateway_resource,
)

from infradiag.twin.series import delta_int, gauge_bool

SCENARIOS = Scenarios("scenarios/build/nat_cases.py")
scenario = SCENARIOS.add
DROPPED = "router.googleapis.com/nat/dropped_sent_packets_count"
ALLOCATION_FAILED = "router.googleapis.com/nat/nat_allocation_failed"


class NatFleet(Fleet):
    """The healthy fleet whose Cloud NAT metrics a scenario sets: drops per reason and protocol (packets a
    minute) and whether allocation failed."""

    def __init__(self, name: str, summary: str) -> None:
        super().__init__(name, summary)
        self.nat_drops: dict[tuple[str, str], int] = {}  # (reason, ip_protocol) -> packets a minute
        self.nat_allocation_failed = False
        self.nat_series = True  # False: Monitoring holds no Cloud NAT series at all

    def websocket_through_nat(self, reset: bool = True) -> None:
        """websocket sends all its egress through the connector, so its public traffic leaves by Cloud NAT,
        and (`reset`) fails on its Pub/Sub connection; the scenario expects the NAT gateway's exhaustion as
        the P1 cause."""
        self.services["websocket"]["template"]["vpcAccess"]["egress"] = "ALL_TRAFFIC"
        if reset:
            self.fail(("websocket",), PUBSUB_RESET)
        self.expect = expectation("degraded", cause("vpc.nat_exhausted", "P1", NAT))

    def nat(self) -> dict[str, Any]:
        """The staging router's one NAT gateway, as routers.list returns it."""
        nat: dict[str, Any] = self.compute["routers"][0]["nats"][0]
        return nat

    def series(self) -> list[dict[str, Any]]:
        kept = [s for s in super().series() if s["metric"]["type"] not in (DROPPED, ALLOCATION_FAILED)]
        if not self.nat_series:
            return kept
        gateway = nat_gateway_resource()
        for (reason, protocol), per_minute in self.nat_drops.items():
            kept.append(
                delta_int(
                    {"type": DROPPED, "labels": {"ip_protocol": protocol, "reason": reason}},
                    gateway,
                    NOW,
                    MINUTES,
                    lambda age, n=per_minute: n,
                )
            )
        failed = self.nat_allocation_failed
        kept.append(
            gauge_bool({"type": ALLOCATION_FAILED, "labels": {}}, gateway, NOW, MINUTES, lambda age: failed)
        )
        return kept


def one_manual_ip(f: NatFleet) -> None:
    """The gateway of gcpdiag's captured nat1: one static NAT IP, minPortsPerVm 32000, no dynamic ports."""
    f.nat().update(
        {
            "natIps": [f"{REGION_URL}/addresses/staging-nat-ip-1"],
            "natIpAllocateOption": "MANUAL_ONLY",
            "minPortsPerVm": 32000,
            "enableDynamicPortAllocation": False,
            "enableEndpointIndependentMapping": False,
        }
    )


@scenario
def manual_ip_short() -> Fleet:
    # As gcpdiag's captured nat1 gateway (test-data/nat1): one static NAT IP and minPortsPerVm 32000, which
    # Google rounds up to 32768 (https://cloud.google.com/compute/docs/reference/rest/v1/routers), so the
    # IP's 64512 ports serve one VM; the connector runs two instances. Allocation fails, nothing is dropped.
    f = NatFleet(
        "cause-vpc-nat-manual-ip-short",
        "Cloud NAT's one manual NAT IP has ports for one VM at minPortsPerVm 32000; the connector runs two",
    )
    one_manual_ip(f)
    f.websocket_through_nat()
    f.nat_allocation_failed = True
    return f


@scenario
def router_status_short() -> Fleet:
    # The manual-IP-short gateway seen only through routers.getRouterStatus: Monitoring has no Cloud NAT
    # series at all (a lagging or unreadable metric), but the router's natStatus says, as gcpdiag captured
    # for nat1 (compute-routers-routerStatus-public-nat-cloud-router.json), that 2 more NAT IPs are needed
    # (https://cloud.google.com/compute/docs/reference/rest/v1/routers/getRouterStatus).
    f = NatFleet(
        "cause-vpc-nat-router-status-short",
        "Cloud NAT's router status asks for 2 more NAT IPs; Monitoring shows no Cloud NAT signal",
    )
    one_manual_ip(f)
    f.compute["routerStatus"] = [
        {
            "router": "staging-router",
            "region": REGION,
            "result": {
                "network": NETWORK,
                "natStatus": [
                    {
                        "name": "staging-nat",
                        "userAllocatedNatIpResources": [f"{REGION_URL}/addresses/staging-nat-ip-1"],
                        "userAllocatedNatIps": ["35.204.78.175"],
                        "minExtraNatIpsNeeded": 2,
                        "numVmEndpointsWithNatMappings": 2,
                    }
                ],
            },
        }
    ]
    f.websocket_through_nat()
    f.nat_series = False
    return f


@scenario
def endpoint_conflict() -> Fleet:
    # Endpoint-independent mapping on, plenty of addresses (AUTO_ONLY): packets are dropped with reason
    # ENDPOINT_INDEPENDENCE_CONFLICT only, no VM runs out of ports and allocation never fails.
    f = NatFleet(
        "cause-vpc-nat-endpoint-conflict",
        "Cloud NAT drops websocket's packets for endpoint-independent mapping conflicts",
    )
    f.nat().update({"enableEndpointIndependentMapping": True, "enableDynamicPortAllocation": False})
    f.websocket_through_nat()
    f.nat_drops = {
        ("ENDPOINT_INDEPENDENCE_CONFLICT", "TCP"): 30,
        ("ENDPOINT_INDEPENDENCE_CONFLICT", "UDP"): 4,
    }
    return f


@scenario
def auto_allocation_failed() -> Fleet:
    # AUTO_ONLY: Google adds NAT IPs as VMs need them, up to the project's address quotas
    # (https://cloud.google.com/nat/quota), so a failed allocation without drops is an address it could not
    # add.
    f = NatFleet(
        "cause-vpc-nat-auto-allocation-failed",
        "Cloud NAT allocates its NAT IPs automatically but fails to allocate ports; nothing is dropped yet",
    )
    f.nat().update({"minPortsPerVm": 4096, "enableDynamicPortAllocation": False})
    f.websocket_through_nat(reset=False)
    f.nat_allocation_failed = True
    return f


if __name__ == "__main__":
    SCENARIOS.main()
