"""A free /28 for a new Serverless VPC Access connector, from the ranges the evidence shows in use."""

from __future__ import annotations

import ipaddress
from typing import Any

# Where infradiag looks for a connector range: Google's own example block for connectors
# (https://cloud.google.com/vpc/docs/configure-serverless-vpc-access, `--range 10.8.0.0/28`).
CONNECTOR_RANGE_BLOCK = ipaddress.ip_network("10.8.0.0/16")


def free_connector_range(network: Any, subnets: Any, connectors: Any) -> dict[str, str]:
    """The first /28 of CONNECTOR_RANGE_BLOCK that overlaps no subnet of `network` and no connector's range
    (a connector's /28 must not overlap any range of its network). Returns `cidr` and `why` (which ranges
    it avoided, and what infradiag does not read: allocated private services access ranges and peered
    networks, with the command that lists them)."""
    taken = [
        str(s["ip_cidr_range"])
        for s in subnets or []
        if s.get("network") == network and s.get("ip_cidr_range")
    ]
    taken += [str(c["ip_cidr_range"]) for c in connectors or [] if c.get("ip_cidr_range")]
    used = [ipaddress.ip_network(r, strict=False) for r in taken]
    unread = (
        "allocated ranges (private services access) and peered networks are not read: check it is free with "
        "gcloud compute addresses list --global --filter purpose=VPC_PEERING"
    )
    for candidate in CONNECTOR_RANGE_BLOCK.subnets(new_prefix=28):
        if not any(candidate.overlaps(u) for u in used):
            avoided = f"clear of {', '.join(taken)}" if taken else "no subnet or connector range seen on it"
            return {"cidr": str(candidate), "why": f"the first free /28 on {network} ({avoided}); {unread}"}
    return {
        "cidr": "",
        "why": f"every /28 of {CONNECTOR_RANGE_BLOCK} is in use on {network}: pick an unused /28 ({unread})",
    }
