"""What a read is: the APIs infradiag calls (each declared once here) and the shape of a read's declaration.

Each read is declared once, next to the code that makes it (`READS` of its collect module), and
`collect/registry.py` gathers them: the collector, the unknowns, the Terraform role list and the README's role
tables are derived from those declarations.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from infradiag.collect.calls import CallDeadline
    from infradiag.collect.clients import Clients


@dataclass(frozen=True)
class Api:
    """One Google API: its name in unknowns (`Unknown.source`), its service name, and the read-only role
    that covers every read of it, with why infradiag needs that role."""

    name: str  # run | vpcaccess | compute | sql | monitoring | iam
    service: str  # e.g. run.googleapis.com
    title: str  # e.g. Cloud Run Admin API v2
    role: str  # https://cloud.google.com/iam/docs/understanding-roles
    why: str  # what the role lets infradiag read, for the README and Terraform


RUN = Api(
    "run",
    "run.googleapis.com",
    "Cloud Run Admin API v2",
    "roles/run.viewer",
    "list Cloud Run resources and read the services' IAM policies",
)
# The services' IAM methods: their own source in unknowns, answered by the Cloud Run Admin API.
IAM = Api("iam", RUN.service, RUN.title, RUN.role, RUN.why)
VPCACCESS = Api(
    "vpcaccess",
    "vpcaccess.googleapis.com",
    "Serverless VPC Access API",
    "roles/vpcaccess.viewer",
    "list connectors (state, machine type, instance bounds)",
)
COMPUTE = Api(
    "compute",
    "compute.googleapis.com",
    "Compute Engine API",
    "roles/compute.networkViewer",
    "subnets, firewalls and the firewall policies in effect (`networks.getEffectiveFirewalls`), routers and "
    "Cloud NAT, load balancer backend services, health checks, NEGs, instance groups and instances",
)
SQL = Api(
    "sql",
    "sqladmin.googleapis.com",
    "Cloud SQL Admin API",
    "roles/cloudsql.viewer",
    "list instances (tier, state, max_connections, private IP)",
)
MONITORING = Api(
    "monitoring",
    "monitoring.googleapis.com",
    "Cloud Monitoring API",
    "roles/monitoring.viewer",
    "connector, Cloud Run, Cloud SQL and Cloud NAT metrics, and alert policies",
)
APIS = (RUN, VPCACCESS, COMPUTE, SQL, MONITORING, IAM)


@dataclass(frozen=True)
class Route:
    """Where the twin must answer a read, as Google documents it: an HTTP method and the REST path template
    (`{x}` stands for one path segment), or "gRPC" and the full method name."""

    method: Literal["GET", "POST", "gRPC"]
    path: str


@dataclass(frozen=True)
class Scope:
    """What a read's fetch needs besides the deadline: the clients and what the triage looks at."""

    clients: Clients
    project: str
    region: str
    now: datetime


# A read the collector runs on its own: its value is stored under the read's evidence field.
Fetch = Callable[[Scope, "CallDeadline"], Any]


@dataclass(frozen=True)
class Read:
    """One API read: its name (in `Evidence.checked` once it answered), the API and RPC it calls, whether
    that RPC pages, what its failure leaves unchecked, the Evidence field it fills and the twin route that
    serves it. `fetch` is set for a read that depends on no other read: the collector runs it on its own and
    stores its value under `field`; reads that need another read's answer are composed in the collector."""

    name: str
    api: Api
    rpc: str  # e.g. run.projects.locations.services.list
    paginated: bool
    consequence: str  # what is lost without it
    field: str  # the Evidence field it fills
    route: Route
    fetch: Fetch | None = None
