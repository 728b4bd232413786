"""The cause catalog (../shared/spec/causes.md, v1): every id a finding may carry."""

from __future__ import annotations

CAUSES: dict[str, str] = {
    "vpc_connector.saturated": "services behind a VPC connector fail while it is at capacity",
    "vpc_connector.not_ready": "the connector is not READY while services route through it",
    "vpc_connector.missing": "a service names a connector that does not exist",
    "vpc_connector.region_mismatch": "the connector is in another region than the service",
    "vpc_connector.firewall_blocked": "firewall rules block the connector's range from its private target",
    "vpc.egress_without_nat": "all egress goes through the VPC but no Cloud NAT covers the connector",
    "vpc.nat_exhausted": "Cloud NAT drops packets for lack of ports or addresses",
    "vpc.direct_egress_subnet_small": "the Direct VPC egress subnet is too small for the max instances",
    "run.revision_not_ready": "the service's newest revision did not become ready",
    "run.max_instances_reached": "the service runs at its max instances and rejects requests with 429",
    "run.memory_exhausted": "containers run out of memory",
    "run.request_timeout": "requests run into the service's request timeout",
    "run.cold_start": "a service scaled to zero answers slowly while instances start",
    "run.ingress_blocked": "ingress settings block the prober",
    "run.invoker_denied": "the prober may not invoke the service",
    "run.traffic_misrouted": "traffic targets a revision that does not exist or is not ready",
    "sql.instance_unavailable": "the Cloud SQL instance is not running",
    "sql.max_connections_exhausted": "the Cloud SQL instance is at its connection limit",
    "sql.cpu_saturated": "the Cloud SQL instance's CPU is saturated",
    "lb.backend_unhealthy": "the load balancer sees its backends unhealthy",
    "lb.health_check_misconfigured": "a load balancer health check cannot work as configured",
    "lb.backend_timeout": "the backend service times out before the service answers",
    "app.dependency_failing": "the health body reports a failing dependency no infrastructure cause explains",
    "app.error": "the service answers 5xx while its infrastructure is healthy",
    "dns.resolution_failed": "the probe's host does not resolve",
    "tls.certificate_invalid": "the certificate is expired, untrusted or for another name",
    "tls.certificate_expiring": "the certificate expires soon",
    "monitoring.alert_gap": "no enabled alert policy watches a signal that explains a failure",
}
