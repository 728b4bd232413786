"""Official google-cloud clients, pointed at Google or at a twin: one code path, one credentials object
(infradiag/identity.py) shared by every client, REST and gRPC, so its token is fetched once.

The libraries are imported here, lazily, so that `infradiag --help` never loads them, and narrowly: each
client from its own module (`google.cloud.compute_v1.services.networks.client`), never through its library's
package. On Python before 3.15 a library's package `__init__` imports every client and type it has, eagerly
(its `__lazy_modules__` list is for PEP 810's lazy imports, which only 3.15 has): for compute_v1 that is a
hundred services and about half of its load time; a service package's `__init__` adds the asyncio client we
never use. lean_packages() makes those packages load without their `__init__`; anything that asks one of
them for a name it does not have yet (e.g. `from google.cloud import compute_v1; compute_v1.Firewall`) gets
the whole package loaded there and then, so other code sees the libraries as documented, only later.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import sys
import threading
from functools import cached_property
from typing import TYPE_CHECKING, Any

from infradiag.unused_parts import keep_unused_parts_out

if TYPE_CHECKING:  # annotations only: `import infradiag.collect` stays cheap (environment_process.prestart)
    from infradiag.identity import Resolved
    from infradiag.target import ApiEndpoints

# Every library a triage reads through, and the clients it makes of each (by the client's class name).
LIBRARIES = ("run_v2", "vpcaccess_v1", "compute_v1", "sqladmin_v1beta4", "monitoring_v3")
_full_load = threading.RLock()


def lean_packages() -> None:
    """Let google.cloud.<library> (for each of LIBRARIES not imported yet) load without its `__init__`'s
    eager imports; a name missing from it later loads the whole package, once. And keep api-core from
    loading google-auth's asyncio transport, which we never use (infradiag/unused_parts.py)."""
    keep_unused_parts_out()
    for library in LIBRARIES:
        _lean(f"google.cloud.{library}")


def _lean(name: str) -> None:
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        return  # not installed (the import that needs it will say so) or not a package
    module = importlib.util.module_from_spec(spec)
    loaded = False

    def whole_package(attribute: str) -> Any:
        nonlocal loaded
        if attribute.startswith("__"):
            raise AttributeError(f"module {name!r} has no attribute {attribute!r}")
        # `from google.cloud.compute_v1 import gapic_version` asks for a submodule: that module only.
        if importlib.util.find_spec(f"{name}.{attribute}") is not None:
            return importlib.import_module(f"{name}.{attribute}")
        with _full_load:
            if not loaded:
                loaded = True
                assert spec.loader is not None
                spec.loader.exec_module(module)
        try:
            return module.__dict__[attribute]
        except KeyError:
            raise AttributeError(f"module {name!r} has no attribute {attribute!r}") from None

    module.__getattr__ = whole_package  # type: ignore[method-assign]  # PEP 562: only for missing names
    sys.modules[name] = module
    parent, _, child = name.rpartition(".")
    importlib.import_module(parent)
    setattr(sys.modules[parent], child, module)


lean_packages()  # before any collector module imports from a library (collect/__init__.py imports this)


def client_class(library: str, client: str) -> Any:
    """The class `client` of google.cloud.<library>, from its own module: e.g. ("compute_v1",
    "NetworksClient") is google.cloud.compute_v1.services.networks.client.NetworksClient."""
    service = re.sub(r"(?<!^)(?=[A-Z])", "_", client.removesuffix("Client")).lower()
    package = f"google.cloud.{library}.services.{service}"
    _lean(package)
    return getattr(importlib.import_module(f"{package}.client"), client)


def import_libraries(clients: tuple[tuple[str, str], ...]) -> None:
    """Load `clients` without making one: seconds of CPU on a busy machine, best spent before a deadline
    starts rather than inside the first API read of each library."""
    for library, client in clients:
        client_class(library, client)
    if any(library == "monitoring_v3" for library, _ in clients):
        import grpc  # noqa: F401

        importlib.import_module("google.cloud.monitoring_v3.types")  # the requests monitoring.py builds


# What the triage's own process reads with: the services and their invoker policies (collect/run.py).
SERVICES_CLIENTS = (("run_v2", "ServicesClient"),)
# What the environment process reads everything else with (environment_worker.py).
ENVIRONMENT_CLIENTS = (
    ("run_v2", "RevisionsClient"),
    ("run_v2", "JobsClient"),
    ("vpcaccess_v1", "VpcAccessServiceClient"),
    ("compute_v1", "FirewallsClient"),
    ("compute_v1", "NetworksClient"),
    ("compute_v1", "RegionNetworkFirewallPoliciesClient"),
    ("compute_v1", "SubnetworksClient"),
    ("compute_v1", "RoutersClient"),
    ("compute_v1", "BackendServicesClient"),
    ("compute_v1", "RegionBackendServicesClient"),
    ("compute_v1", "HealthChecksClient"),
    ("compute_v1", "InstanceGroupsClient"),
    ("compute_v1", "InstancesClient"),
    ("compute_v1", "NetworkEndpointGroupsClient"),
    ("sqladmin_v1beta4", "SqlInstancesServiceClient"),
    ("monitoring_v3", "MetricServiceClient"),
    ("monitoring_v3", "AlertPolicyServiceClient"),
)


class Clients:
    """Cached clients for one target; REST transport wherever the library has one."""

    def __init__(self, endpoints: ApiEndpoints | None, auth: Resolved | None = None) -> None:
        """`auth`: the run's credentials; None: anonymous at a twin, ADC at Google."""
        self.endpoints = endpoints
        self.auth = auth
        self._made: dict[tuple[str, str], Any] = {}
        self._making = threading.Lock()

    def rest(self, library: str, client: str) -> Any:
        """`google.cloud.<library>.<client>` over REST, made on first use and kept for this target, e.g.
        `rest("run_v2", "JobsClient")`: a new read's client needs no property of its own."""
        key = (library, client)
        with self._making:  # reads run on threads of their own: one client each, not one per first read
            if key not in self._made:
                self._made[key] = client_class(library, client)(**self._rest_kwargs())
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

    @property
    def run_services(self) -> Any:
        """run_v2.ServicesClient."""
        return self.rest("run_v2", "ServicesClient")

    @property
    def vpc_access(self) -> Any:
        """vpcaccess_v1.VpcAccessServiceClient."""
        return self.rest("vpcaccess_v1", "VpcAccessServiceClient")

    @property
    def run_revisions(self) -> Any:
        """run_v2.RevisionsClient."""
        return self.rest("run_v2", "RevisionsClient")

    @property
    def firewalls(self) -> Any:
        """compute_v1.FirewallsClient (Compute's library is REST only)."""
        return self.rest("compute_v1", "FirewallsClient")

    @property
    def networks(self) -> Any:
        """compute_v1.NetworksClient (networks.get and getEffectiveFirewalls)."""
        return self.rest("compute_v1", "NetworksClient")

    @property
    def region_network_firewall_policies(self) -> Any:
        """compute_v1.RegionNetworkFirewallPoliciesClient (getEffectiveFirewalls of a region)."""
        return self.rest("compute_v1", "RegionNetworkFirewallPoliciesClient")

    @property
    def subnetworks(self) -> Any:
        """compute_v1.SubnetworksClient."""
        return self.rest("compute_v1", "SubnetworksClient")

    @property
    def routers(self) -> Any:
        """compute_v1.RoutersClient."""
        return self.rest("compute_v1", "RoutersClient")

    @property
    def backend_services(self) -> Any:
        """compute_v1.BackendServicesClient (global backend services, and the aggregated list)."""
        return self.rest("compute_v1", "BackendServicesClient")

    @property
    def region_backend_services(self) -> Any:
        """compute_v1.RegionBackendServicesClient (getHealth of regional backend services)."""
        return self.rest("compute_v1", "RegionBackendServicesClient")

    @property
    def health_checks(self) -> Any:
        """compute_v1.HealthChecksClient."""
        return self.rest("compute_v1", "HealthChecksClient")

    @property
    def instance_groups(self) -> Any:
        """compute_v1.InstanceGroupsClient (the aggregated list of zonal and regional groups)."""
        return self.rest("compute_v1", "InstanceGroupsClient")

    @property
    def instances(self) -> Any:
        """compute_v1.InstancesClient."""
        return self.rest("compute_v1", "InstancesClient")

    @property
    def network_endpoint_groups(self) -> Any:
        """compute_v1.NetworkEndpointGroupsClient."""
        return self.rest("compute_v1", "NetworkEndpointGroupsClient")

    @property
    def sql_instances(self) -> Any:
        """sqladmin_v1beta4.SqlInstancesServiceClient: v1beta4, because in this library only v1beta4 has a
        REST transport (sqladmin_v1 is gRPC only); both describe the same DatabaseInstance."""
        return self.rest("sqladmin_v1beta4", "SqlInstancesServiceClient")

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
        client = client_class("monitoring_v3", "MetricServiceClient")
        if self.endpoints is None:
            return client(credentials=self._credentials())
        from google.cloud.monitoring_v3.services.metric_service.transports import MetricServiceGrpcTransport

        return client(transport=MetricServiceGrpcTransport(channel=self._monitoring_channel))

    @cached_property
    def alert_policies(self) -> Any:
        """monitoring_v3.AlertPolicyServiceClient over gRPC."""
        client = client_class("monitoring_v3", "AlertPolicyServiceClient")
        if self.endpoints is None:
            return client(credentials=self._credentials())
        from google.cloud.monitoring_v3.services.alert_policy_service.transports import (
            AlertPolicyServiceGrpcTransport,
        )

        return client(transport=AlertPolicyServiceGrpcTransport(channel=self._monitoring_channel))


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
