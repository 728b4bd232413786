"""Official google-cloud clients, pointed at Google or at a twin: one code path, one credentials object
(infradiag/identity.py) shared by every client, REST and gRPC, so its token is fetched once.

The libraries are imported here, lazily, so that `infradiag --help` never loads them.
"""

from __future__ import annotations

import importlib
from functools import cached_property
from typing import Any

from infradiag.identity import Resolved
from infradiag.target import ApiEndpoints


def import_libraries() -> None:
    """Load every client library a triage uses (without making a client): a few seconds of CPU on a busy
    machine (compute_v1 alone is over one), best spent before a deadline starts rather than inside the first
    API read of each library."""
    import grpc  # noqa: F401
    from google.cloud import compute_v1, monitoring_v3, run_v2, sqladmin_v1beta4, vpcaccess_v1  # noqa: F401


class Clients:
    """Cached clients for one target; REST transport wherever the library has one."""

    def __init__(self, endpoints: ApiEndpoints | None, auth: Resolved | None = None) -> None:
        """`auth`: the run's credentials; None: anonymous at a twin, ADC at Google."""
        self.endpoints = endpoints
        self.auth = auth
        self._made: dict[tuple[str, str], Any] = {}

    def rest(self, library: str, client: str) -> Any:
        """`google.cloud.<library>.<client>` over REST, made on first use and kept for this target, e.g.
        `rest("run_v2", "JobsClient")`: a new read's client needs no property of its own."""
        key = (library, client)
        if key not in self._made:
            module = importlib.import_module(f"google.cloud.{library}")
            self._made[key] = getattr(module, client)(**self._rest_kwargs())
        return self._made[key]

    def _credentials(self) -> Any:
        if self.auth is not None:
            return self.auth.credentials
        if self.endpoints is None:
            return None  # the library's own ADC lookup
        from google.auth.credentials import AnonymousCredentials

        return AnonymousCredentials()  # type: ignore[no-untyped-call]

    def _rest_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"transport": "rest", "credentials": self._credentials()}
        if self.endpoints is not None:
            from google.api_core.client_options import ClientOptions

            kwargs["client_options"] = ClientOptions(api_endpoint=self.endpoints.rest)
        return kwargs

    def close(self) -> None:
        """Close the Monitoring channel to a twin, if one was opened."""
        channel = self.__dict__.get("_monitoring_channel")
        if channel is not None:
            channel.close()

    @cached_property
    def run_services(self) -> Any:
        """run_v2.ServicesClient."""
        from google.cloud import run_v2

        return run_v2.ServicesClient(**self._rest_kwargs())

    @cached_property
    def vpc_access(self) -> Any:
        """vpcaccess_v1.VpcAccessServiceClient."""
        from google.cloud import vpcaccess_v1

        return vpcaccess_v1.VpcAccessServiceClient(**self._rest_kwargs())

    @cached_property
    def run_revisions(self) -> Any:
        """run_v2.RevisionsClient."""
        from google.cloud import run_v2

        return run_v2.RevisionsClient(**self._rest_kwargs())

    @cached_property
    def firewalls(self) -> Any:
        """compute_v1.FirewallsClient (Compute's library is REST only)."""
        from google.cloud import compute_v1

        return compute_v1.FirewallsClient(**self._rest_kwargs())

    @cached_property
    def networks(self) -> Any:
        """compute_v1.NetworksClient (networks.get and getEffectiveFirewalls)."""
        from google.cloud import compute_v1

        return compute_v1.NetworksClient(**self._rest_kwargs())

    @cached_property
    def region_network_firewall_policies(self) -> Any:
        """compute_v1.RegionNetworkFirewallPoliciesClient (getEffectiveFirewalls of a region)."""
        from google.cloud import compute_v1

        return compute_v1.RegionNetworkFirewallPoliciesClient(**self._rest_kwargs())

    @cached_property
    def subnetworks(self) -> Any:
        """compute_v1.SubnetworksClient."""
        from google.cloud import compute_v1

        return compute_v1.SubnetworksClient(**self._rest_kwargs())

    @cached_property
    def routers(self) -> Any:
        """compute_v1.RoutersClient."""
        from google.cloud import compute_v1

        return compute_v1.RoutersClient(**self._rest_kwargs())

    @cached_property
    def backend_services(self) -> Any:
        """compute_v1.BackendServicesClient (global backend services, and the aggregated list)."""
        from google.cloud import compute_v1

        return compute_v1.BackendServicesClient(**self._rest_kwargs())

    @cached_property
    def region_backend_services(self) -> Any:
        """compute_v1.RegionBackendServicesClient (getHealth of regional backend services)."""
        from google.cloud import compute_v1

        return compute_v1.RegionBackendServicesClient(**self._rest_kwargs())

    @cached_property
    def health_checks(self) -> Any:
        """compute_v1.HealthChecksClient."""
        from google.cloud import compute_v1

        return compute_v1.HealthChecksClient(**self._rest_kwargs())

    @cached_property
    def instance_groups(self) -> Any:
        """compute_v1.InstanceGroupsClient (the aggregated list of zonal and regional groups)."""
        from google.cloud import compute_v1

        return compute_v1.InstanceGroupsClient(**self._rest_kwargs())

    @cached_property
    def instances(self) -> Any:
        """compute_v1.InstancesClient."""
        from google.cloud import compute_v1

        return compute_v1.InstancesClient(**self._rest_kwargs())

    @cached_property
    def network_endpoint_groups(self) -> Any:
        """compute_v1.NetworkEndpointGroupsClient."""
        from google.cloud import compute_v1

        return compute_v1.NetworkEndpointGroupsClient(**self._rest_kwargs())

    @cached_property
    def sql_instances(self) -> Any:
        """sqladmin_v1beta4.SqlInstancesServiceClient: v1beta4, because in this library only v1beta4 has a
        REST transport (sqladmin_v1 is gRPC only); both describe the same DatabaseInstance."""
        from google.cloud import sqladmin_v1beta4

        return sqladmin_v1beta4.SqlInstancesServiceClient(**self._rest_kwargs())

    @cached_property
    def _monitoring_channel(self) -> Any:
        import grpc

        assert self.endpoints is not None
        channel = grpc.insecure_channel(self.endpoints.grpc)
        from google.auth.credentials import AnonymousCredentials

        credentials = self._credentials()
        if self.auth is None or isinstance(credentials, AnonymousCredentials):
            return channel
        # gRPC sends call credentials only over TLS; a twin listens in plain text on loopback, so the
        # bearer token goes in as metadata, from the same credentials object (refreshed when it expires).
        return grpc.intercept_channel(channel, _bearer_metadata(credentials, self.auth.request))

    @cached_property
    def metrics(self) -> Any:
        """monitoring_v3.MetricServiceClient over gRPC, the only transport its library has."""
        from google.cloud import monitoring_v3

        if self.endpoints is None:
            return monitoring_v3.MetricServiceClient(credentials=self._credentials())
        from google.cloud.monitoring_v3.services.metric_service.transports import MetricServiceGrpcTransport

        return monitoring_v3.MetricServiceClient(
            transport=MetricServiceGrpcTransport(channel=self._monitoring_channel)
        )

    @cached_property
    def alert_policies(self) -> Any:
        """monitoring_v3.AlertPolicyServiceClient over gRPC."""
        from google.cloud import monitoring_v3

        if self.endpoints is None:
            return monitoring_v3.AlertPolicyServiceClient(credentials=self._credentials())
        from google.cloud.monitoring_v3.services.alert_policy_service.transports import (
            AlertPolicyServiceGrpcTransport,
        )

        return monitoring_v3.AlertPolicyServiceClient(
            transport=AlertPolicyServiceGrpcTransport(channel=self._monitoring_channel)
        )


def _bearer_metadata(credentials: Any, auth_request: Any) -> Any:
    """A unary-unary client interceptor adding `authorization: Bearer TOKEN` from google-auth credentials,
    as google.auth.transport.grpc's metadata plugin does on a TLS channel; a call refused UNAUTHENTICATED
    is made once more with a refreshed token, as google-auth's AuthorizedSession does for REST."""
    import grpc

    class BearerMetadata(grpc.UnaryUnaryClientInterceptor):  # type: ignore[misc]
        def _call(self, continuation: Any, details: Any, request: Any) -> Any:
            headers: dict[str, str] = {}
            # before_request refreshes the token first when it has expired.
            credentials.before_request(auth_request, "POST", details.method, headers)
            metadata = [*(details.metadata or ()), *((k.lower(), v) for k, v in headers.items())]
            return continuation(details._replace(metadata=metadata), request)

        def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
            outcome = self._call(continuation, details, request)
            if outcome.code() != grpc.StatusCode.UNAUTHENTICATED:
                return outcome
            credentials.refresh(auth_request)
            return self._call(continuation, details, request)

    return BearerMetadata()
