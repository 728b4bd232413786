"""The network the firewall tests share: one connector on network `vpc` in us-central1 (on a range of its
own, or on a subnet), a Cloud SQL instance at 10.20.0.3 on it, and VPC egress rules towards it; and the Cloud
SQL instance evidence the tests build their instances from."""

from __future__ import annotations

import ipaddress

from infradiag.evidence import (
    ConnectorEvidence,
    FirewallEvidence,
    FirewallPortRule,
    SqlInstanceEvidence,
    SubnetEvidence,
)

# Its instances: 10.8.0.0/28, tags vpc-connector and vpc-connector-us-central1-conn.
CONNECTOR = ConnectorEvidence(
    name="conn",
    resource="projects/p/locations/us-central1/connectors/conn",
    region="us-central1",
    state="READY",
    network="vpc",
    ip_cidr_range="10.8.0.0/28",
)
DB_IP = "10.20.0.3"
# The same connector on a subnet of `vpc` instead of a range of its own: it takes CONNECTOR_SUBNET's range.
CONNECTOR_ON_SUBNET = CONNECTOR.model_copy(update={"ip_cidr_range": None, "subnet": "conn-subnet"})


def vpc_subnet(name: str, cidr: str) -> SubnetEvidence:
    """Subnet `name` of `vpc` in us-central1 over `cidr`, less the 4 addresses Google reserves in it."""
    addresses = ipaddress.ip_network(cidr)
    return SubnetEvidence(
        ip_cidr_range=cidr,
        prefix_length=addresses.prefixlen,
        usable_addresses=addresses.num_addresses - 4,
        name=name,
        resource=f"projects/p/regions/us-central1/subnetworks/{name}",
        network="vpc",
        region="us-central1",
    )


CONNECTOR_SUBNET = vpc_subnet("conn-subnet", "10.9.0.0/28")


def sql_instance(name: str, project: str, region: str, **fields: object) -> SqlInstanceEvidence:
    """A RUNNABLE PostgreSQL 15 instance `name` of `project` in `region`, with `fields` set on top."""
    return SqlInstanceEvidence(
        name=name,
        resource=f"projects/{project}/instances/{name}",
        connection_name=f"{project}:{region}:{name}",
        region=region,
        state="RUNNABLE",
        engine="POSTGRES",
        database_version="POSTGRES_15",
        **fields,
    )


def sql(name: str = "db", network: str | None = "vpc", private_ip: str | None = DB_IP) -> SqlInstanceEvidence:
    """A RUNNABLE PostgreSQL instance with a private IP on `network`."""
    return sql_instance(
        name, "p", "us-central1", tier="db-f1-micro", private_ip=private_ip, private_network=network
    )


def egress_to_db(name: str, action: str, priority: int = 1000) -> FirewallEvidence:
    """A VPC egress rule of network `vpc` on tcp:5432 towards 10.20.0.0/16."""
    return FirewallEvidence(
        name=name,
        network="vpc",
        direction="EGRESS",
        priority=priority,
        action=action,
        rules=[FirewallPortRule(protocol="tcp", ports=["5432"])],
        destination_ranges=["10.20.0.0/16"],
    )
