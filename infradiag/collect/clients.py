"""Official google-cloud clients, pointed at Google (ADC) or at a twin (anonymous): one code path.

The libraries are imported here, lazily, so that `infradiag --help` never loads them.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from infradiag.target import ApiEndpoints


class Clients:
    """Cached clients for one target; REST transport wherever the library has one."""

    def __init__(self, endpoints: ApiEndpoints | None) -> None:
        self.endpoints = endpoints

    def _rest_kwargs(self) -> dict[str, Any]:
        if self.endpoints is None:
            return {"transport": "rest"}
        from google.api_core.client_options import ClientOptions
        from google.auth.credentials import AnonymousCredentials

        return {
            "transport": "rest",
            "credentials": AnonymousCredentials(),  # type: ignore[no-untyped-call]
            "client_options": ClientOptions(api_endpoint=self.endpoints.rest),
        }

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
    def metrics(self) -> Any:
        """monitoring_v3.MetricServiceClient over gRPC, the only transport its library has."""
        from google.cloud import monitoring_v3

        if self.endpoints is None:
            return monitoring_v3.MetricServiceClient()
        import grpc
        from google.cloud.monitoring_v3.services.metric_service.transports import MetricServiceGrpcTransport

        channel = grpc.insecure_channel(self.endpoints.grpc)
        return monitoring_v3.MetricServiceClient(transport=MetricServiceGrpcTransport(channel=channel))
