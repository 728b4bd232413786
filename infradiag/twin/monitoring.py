"""The twin's Cloud Monitoring v3 gRPC server: MetricService and AlertPolicyService over one scenario.

ListTimeSeries and ListAlertPolicies answer from the scenario; every mutating RPC answers
PERMISSION_DENIED; other read RPCs answer UNIMPLEMENTED. Every call is logged, and the scenario's
apiFaults for api `monitoring` apply before any answer.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import grpc
from google.cloud import monitoring_v3
from google.protobuf import json_format
from google.protobuf.message import Message
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status  # type: ignore[import-untyped]  # grpcio-status ships no stubs

from infradiag.twin.auth import BearerProblem, TwinAuth
from infradiag.twin.faults import FaultInjector
from infradiag.twin.requestlog import LoggedCall, RequestLog
from infradiag.twin.scenario import ApiFault, Scenario
from infradiag.twin.timeseries.errors import InvalidArgument, ScenarioDataError
from infradiag.twin.timeseries.filters import comparisons, evaluate, label_text, parse_filter
from infradiag.twin.timeseries.listing import list_time_series, page_of_time_series

_METRIC_SERVICE = "google.monitoring.v3.MetricService"
_ALERT_SERVICE = "google.monitoring.v3.AlertPolicyService"
_API = "monitoring.googleapis.com"
_DEFAULT_ALERT_PAGE_SIZE = 100  # ListAlertPoliciesRequest documents no default; the client pages on


@dataclass(frozen=True)
class _Rpc:
    service: str
    name: str
    request: Any  # the proto-plus request class
    permission: str  # the IAM permission Google checks (https://cloud.google.com/monitoring/access-control)
    mutating: bool = False

    @property
    def path(self) -> str:
        return f"/{self.service}/{self.name}"


_LIST_TIME_SERIES = _Rpc(
    _METRIC_SERVICE, "ListTimeSeries", monitoring_v3.ListTimeSeriesRequest, "monitoring.timeSeries.list"
)
_LIST_ALERT_POLICIES = _Rpc(
    _ALERT_SERVICE,
    "ListAlertPolicies",
    monitoring_v3.ListAlertPoliciesRequest,
    "monitoring.alertPolicies.list",
)
_REFUSED = (
    _Rpc(
        _METRIC_SERVICE,
        "CreateTimeSeries",
        monitoring_v3.CreateTimeSeriesRequest,
        "monitoring.timeSeries.create",
        True,
    ),
    _Rpc(
        _METRIC_SERVICE,
        "CreateServiceTimeSeries",
        monitoring_v3.CreateTimeSeriesRequest,
        "monitoring.timeSeries.create",
        True,
    ),
    _Rpc(
        _METRIC_SERVICE,
        "CreateMetricDescriptor",
        monitoring_v3.CreateMetricDescriptorRequest,
        "monitoring.metricDescriptors.create",
        True,
    ),
    _Rpc(
        _METRIC_SERVICE,
        "DeleteMetricDescriptor",
        monitoring_v3.DeleteMetricDescriptorRequest,
        "monitoring.metricDescriptors.delete",
        True,
    ),
    _Rpc(
        _ALERT_SERVICE,
        "CreateAlertPolicy",
        monitoring_v3.CreateAlertPolicyRequest,
        "monitoring.alertPolicies.create",
        True,
    ),
    _Rpc(
        _ALERT_SERVICE,
        "UpdateAlertPolicy",
        monitoring_v3.UpdateAlertPolicyRequest,
        "monitoring.alertPolicies.update",
        True,
    ),
    _Rpc(
        _ALERT_SERVICE,
        "DeleteAlertPolicy",
        monitoring_v3.DeleteAlertPolicyRequest,
        "monitoring.alertPolicies.delete",
        True,
    ),
)
_UNIMPLEMENTED = (
    _Rpc(
        _METRIC_SERVICE,
        "ListMonitoredResourceDescriptors",
        monitoring_v3.ListMonitoredResourceDescriptorsRequest,
        "monitoring.monitoredResourceDescriptors.list",
    ),
    _Rpc(
        _METRIC_SERVICE,
        "GetMonitoredResourceDescriptor",
        monitoring_v3.GetMonitoredResourceDescriptorRequest,
        "monitoring.monitoredResourceDescriptors.get",
    ),
    _Rpc(
        _METRIC_SERVICE,
        "ListMetricDescriptors",
        monitoring_v3.ListMetricDescriptorsRequest,
        "monitoring.metricDescriptors.list",
    ),
    _Rpc(
        _METRIC_SERVICE,
        "GetMetricDescriptor",
        monitoring_v3.GetMetricDescriptorRequest,
        "monitoring.metricDescriptors.get",
    ),
    _Rpc(
        _ALERT_SERVICE, "GetAlertPolicy", monitoring_v3.GetAlertPolicyRequest, "monitoring.alertPolicies.get"
    ),
)


class _RpcError(Exception):
    """An answer other than OK: a gRPC code, Google's message and google.rpc detail messages."""

    def __init__(self, code: grpc.StatusCode, message: str, details: Sequence[Message] = ()) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = tuple(details)

    def status(self) -> Any:
        """The grpc.Status carrying a google.rpc.Status in `grpc-status-details-bin`, as Google sends it."""
        proto = status_pb2.Status(code=self.code.value[0], message=self.message)
        for detail in self.details:
            proto.details.add().Pack(detail)
        return rpc_status.to_status(proto)


# Google's usual texts for the codes a scenario's apiFaults may name.
_FAULT_MESSAGES = {
    "UNAVAILABLE": "The service is currently unavailable.",
    "DEADLINE_EXCEEDED": "Deadline exceeded.",
    "NOT_FOUND": "Requested entity was not found.",
    "INTERNAL": "Internal error encountered.",
}


# ---------------------------------------------------------------------------------------------------------
# Page tokens: opaque to clients, bound to the request they continue
# ---------------------------------------------------------------------------------------------------------


def _fingerprint(request: Mapping[str, Any]) -> str:
    rest = {k: v for k, v in request.items() if k not in ("pageToken", "pageSize")}
    return hashlib.sha256(json.dumps(rest, sort_keys=True).encode()).hexdigest()[:16]


def _page_token(offset: int | None, fingerprint: str) -> str:
    if offset is None:
        return ""
    return base64.urlsafe_b64encode(json.dumps({"offset": offset, "query": fingerprint}).encode()).decode()


def _page_offset(token: str, fingerprint: str) -> int:
    if not token:
        return 0
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        offset, query = int(data["offset"]), data["query"]
    except (ValueError, KeyError, TypeError):
        raise InvalidArgument("page_token: not a page token this method returned") from None
    if query != fingerprint or offset < 0:
        raise InvalidArgument("page_token: the token belongs to a different request")
    return offset


# ---------------------------------------------------------------------------------------------------------
# ListAlertPolicies filter and order_by: https://cloud.google.com/monitoring/api/v3/sorting-and-filtering
# ---------------------------------------------------------------------------------------------------------

_POLICY_FIELDS = {"name": "name", "display_name": "displayName", "enabled": "enabled", "combiner": "combiner"}
_LABEL_PREFIXES = ("user_labels.", "user_label.")


def _policy_value(policy: Mapping[str, Any], field: str) -> str | None:
    if field in _POLICY_FIELDS:
        value = policy.get(_POLICY_FIELDS[field])
    else:
        key = field.split(".", 1)[1]
        value = (policy.get("userLabels") or {}).get(key)
    return None if value is None else label_text(value)


def _policy_filter(text: str) -> Callable[[Mapping[str, Any]], bool]:
    if not text.strip():
        return lambda _policy: True
    expr = parse_filter(text)
    for comparison in comparisons(expr):
        if comparison.field not in _POLICY_FIELDS and not comparison.field.startswith(_LABEL_PREFIXES):
            raise InvalidArgument(f"twin: filtering alert policies by {comparison.field} is not supported")
    return lambda policy: evaluate(expr, lambda field: _policy_value(policy, field))


def _by_field(field: str) -> Callable[[Mapping[str, Any]], str]:
    return lambda policy: _policy_value(policy, field) or ""


def _ordered_policies(policies: Sequence[Mapping[str, Any]], order_by: str) -> list[Mapping[str, Any]]:
    ordered = list(policies)
    keys = [part.strip() for part in order_by.split(",") if part.strip()]
    # Stable sorts from the least significant key to the most significant give the combined order.
    for key in reversed(keys):
        field = key.removeprefix("-")
        if field not in ("name", "display_name"):
            raise InvalidArgument(f"twin: ordering alert policies by {field} is not supported")
        ordered.sort(key=_by_field(field), reverse=key.startswith("-"))
    return ordered


# ---------------------------------------------------------------------------------------------------------
# The servicer
# ---------------------------------------------------------------------------------------------------------


def _timestamp(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


class _Twin:
    def __init__(
        self, scenario: Scenario, log: RequestLog, faults: FaultInjector, auth: TwinAuth | None = None
    ) -> None:
        self._scenario = scenario
        self._auth = auth
        self._log = log
        self._faults = faults
        # The delays in progress, ended early by stop(): a sleeping handler thread would outlive the server
        # and keep the process alive (grpc's executor threads are joined at exit).
        self._delays: set[threading.Event] = set()
        self._delays_lock = threading.Lock()
        self._stopped = False

    def _delay(self, seconds: float, context: Any) -> None:
        """Wait out an apiFault's delay, but only while the call lives: no longer once the client has gone
        (its deadline passed, it cancelled) or the server stops."""
        ended = threading.Event()
        with self._delays_lock:
            if self._stopped:
                return
            self._delays.add(ended)
        try:
            # add_callback runs the callback when the RPC terminates; False: it already has.
            if context.add_callback(ended.set):
                ended.wait(seconds)
        finally:
            with self._delays_lock:
                self._delays.discard(ended)

    def stop(self) -> None:
        """End every delay in progress, and any that starts from now on."""
        with self._delays_lock:
            self._stopped = True
            for ended in self._delays:
                ended.set()

    # -- errors shaped as Google sends them ------------------------------------------------------------

    def _project_ref(self) -> str:
        return self._scenario.projectNumber or self._scenario.project

    def _error_info(self, reason: str, domain: str, metadata: Mapping[str, str]) -> Message:
        return error_details_pb2.ErrorInfo(reason=reason, domain=domain, metadata=dict(metadata))

    def _permission_denied(self, rpc: _Rpc, reason: str = "IAM_PERMISSION_DENIED") -> _RpcError:
        # Message as Cloud Monitoring words it, e.g. "Permission monitoring.timeSeries.create denied (or
        # the resource may not exist)." (seen in client error reports).
        domain = "iam.googleapis.com" if reason == "IAM_PERMISSION_DENIED" else "googleapis.com"
        metadata = {"permission": rpc.permission, "resource": f"projects/{self._scenario.project}"}
        return _RpcError(
            grpc.StatusCode.PERMISSION_DENIED,
            f"Permission {rpc.permission} denied (or the resource may not exist).",
            [self._error_info(reason, domain, metadata)],
        )

    def _service_disabled(self) -> _RpcError:
        # The shape Google sends for a disabled API: ErrorInfo SERVICE_DISABLED in domain googleapis.com
        # with the service and consumer, a localized message, and a Help link to enable the API.
        project = self._project_ref()
        url = f"https://console.developers.google.com/apis/api/{_API}/overview?project={project}"
        message = (
            f"Cloud Monitoring API has not been used in project {project} before or it is disabled. "
            f"Enable it by visiting {url} then retry. If you enabled this API recently, wait a few "
            "minutes for the action to propagate to our systems and retry."
        )
        metadata = {
            "service": _API,
            "consumer": f"projects/{project}",
            "activationUrl": url,
            "serviceTitle": "Cloud Monitoring API",
            "containerInfo": project,
        }
        return _RpcError(
            grpc.StatusCode.PERMISSION_DENIED,
            message,
            [
                self._error_info("SERVICE_DISABLED", "googleapis.com", metadata),
                error_details_pb2.LocalizedMessage(locale="en-US", message=message),
                error_details_pb2.Help(
                    links=[
                        error_details_pb2.Help.Link(
                            description="Google developers console API activation", url=url
                        )
                    ]
                ),
            ],
        )

    def _fault_error(self, fault: ApiFault, rpc: _Rpc) -> _RpcError:
        assert fault.error is not None
        if fault.error == "PERMISSION_DENIED":
            if fault.reason == "SERVICE_DISABLED":
                return self._service_disabled()
            return self._permission_denied(rpc, fault.reason or "IAM_PERMISSION_DENIED")
        if fault.error == "RESOURCE_EXHAUSTED":
            message = (
                "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute' of "
                f"service '{_API}' for consumer 'project_number:{self._project_ref()}'."
            )
        else:
            message = _FAULT_MESSAGES[fault.error]
        details = []
        if fault.reason is not None:
            metadata = {"service": _API, "consumer": f"projects/{self._project_ref()}"}
            details.append(self._error_info(fault.reason, "googleapis.com", metadata))
        return _RpcError(grpc.StatusCode[fault.error], message, details)

    # -- answers ---------------------------------------------------------------------------------------

    def _check_name(self, name: str, containers: tuple[str, ...], rpc: _Rpc) -> None:
        own = {f"projects/{ref}" for ref in (self._scenario.project, self._scenario.projectNumber) if ref}
        if name in own:
            return
        container, _, ident = name.partition("/")
        if container not in containers or not ident or "/" in ident:
            raise InvalidArgument(f"name: {name!r} is not of the form projects/[PROJECT_ID_OR_NUMBER]")
        # Google does not reveal whether another project exists: it denies the permission instead.
        raise self._permission_denied(rpc)

    def list_time_series(self, request: Any) -> Any:
        """ListTimeSeries over the scenario's timeSeries, paged as metric_service.proto documents."""
        self._check_name(request.name, ("projects", "organizations", "folders"), _LIST_TIME_SERIES)
        query = json_format.MessageToDict(monitoring_v3.ListTimeSeriesRequest.pb(request))
        if query.get("orderBy"):
            # metric_service.proto, order_by: "Unsupported: must be left blank."
            raise InvalidArgument("order_by: unsupported, must be left blank")
        if "secondaryAggregation" in query:
            if "aggregation" not in query:
                raise InvalidArgument(
                    "secondary_aggregation may only be specified if aggregation is specified"
                )
            raise InvalidArgument("twin: secondary_aggregation is not supported")
        interval = query.get("interval") or {}
        if "endTime" not in interval:
            raise InvalidArgument("interval.end_time is required")
        view = str(query.get("view", "FULL"))
        series = list_time_series(
            self._scenario.monitoring.timeSeries,
            filter=request.filter,
            start_time=_timestamp(interval.get("startTime")),
            end_time=datetime.fromisoformat(interval["endTime"]),
            aggregation=query.get("aggregation"),
            view=view,
        )
        fingerprint = _fingerprint(query)
        offset = _page_offset(request.page_token, fingerprint)
        page, following = page_of_time_series(series, view=view, page_size=request.page_size, offset=offset)
        response = json_format.ParseDict(
            {"timeSeries": page, "nextPageToken": _page_token(following, fingerprint)},
            monitoring_v3.ListTimeSeriesResponse.pb()(),
            ignore_unknown_fields=True,
        )
        return monitoring_v3.ListTimeSeriesResponse.wrap(response)

    def list_alert_policies(self, request: Any) -> Any:
        """ListAlertPolicies over the scenario's alertPolicies, with simple filter and order_by."""
        self._check_name(request.name, ("projects",), _LIST_ALERT_POLICIES)
        if request.page_size < 0:
            raise InvalidArgument("page_size must not be negative")
        wanted = _policy_filter(request.filter)
        chosen = _ordered_policies(
            [p for p in self._scenario.monitoring.alertPolicies if wanted(p)], request.order_by
        )
        fingerprint = _fingerprint(
            json_format.MessageToDict(monitoring_v3.ListAlertPoliciesRequest.pb(request))
        )
        offset = _page_offset(request.page_token, fingerprint)
        size = request.page_size or _DEFAULT_ALERT_PAGE_SIZE
        following = offset + size if offset + size < len(chosen) else None
        response = json_format.ParseDict(
            {
                "alertPolicies": chosen[offset : offset + size],
                "nextPageToken": _page_token(following, fingerprint),
                "totalSize": len(chosen),
            },
            monitoring_v3.ListAlertPoliciesResponse.pb()(),
            ignore_unknown_fields=True,
        )
        return monitoring_v3.ListAlertPoliciesResponse.wrap(response)

    # -- dispatch, faults and the request log ----------------------------------------------------------

    def _record(self, rpc: _Rpc, code: str) -> None:
        self._log.record(LoggedCall("monitoring", rpc.name, "grpc", rpc.path, rpc.mutating, code))

    def _check_credentials(self, rpc: _Rpc, context: Any) -> None:
        if self._auth is None:
            return
        metadata = dict(context.invocation_metadata() or ())
        caller = self._auth.principal(metadata.get("authorization"))
        if isinstance(caller, BearerProblem):
            metadata_info = {"service": _API, "method": f"{rpc.service}.{rpc.name}"}
            info = self._error_info(caller.reason, "googleapis.com", metadata_info)
            raise _RpcError(grpc.StatusCode.UNAUTHENTICATED, caller.message, [info])

    def _answer(self, rpc: _Rpc, answer: Callable[[Any], Any] | None, request: Any, context: Any) -> Any:
        self._check_credentials(rpc, context)
        fault = self._faults.match("monitoring", rpc.name)
        if fault is not None:
            if fault.delayMs:
                self._delay(fault.delayMs / 1000, context)
            if fault.error is not None:
                raise self._fault_error(fault, rpc)
        if rpc.mutating:
            raise self._permission_denied(rpc)
        if answer is None:
            raise _RpcError(grpc.StatusCode.UNIMPLEMENTED, f"twin: {rpc.name} is not implemented")
        try:
            return answer(request)
        except InvalidArgument as error:
            raise _RpcError(grpc.StatusCode.INVALID_ARGUMENT, str(error)) from error
        except ScenarioDataError as error:
            raise _RpcError(grpc.StatusCode.INTERNAL, f"twin: scenario data error: {error}") from error

    def _handler(self, rpc: _Rpc, answer: Callable[[Any], Any] | None) -> Callable[[Any, Any], Any]:
        def handle(request: Any, context: Any) -> Any:
            try:
                response = self._answer(rpc, answer, request, context)
            except _RpcError as error:
                self._record(rpc, error.code.name)
                context.abort_with_status(error.status())
                raise AssertionError("unreachable: abort_with_status raises") from error
            except Exception:
                self._record(rpc, "UNKNOWN")
                raise
            self._record(rpc, "OK")
            return response

        return handle

    def generic_handlers(self) -> tuple[Any, ...]:
        """One grpc generic handler per service, covering every RPC the twin logs."""
        answers: list[tuple[_Rpc, Callable[[Any], Any] | None, Any]] = [
            (_LIST_TIME_SERIES, self.list_time_series, monitoring_v3.ListTimeSeriesResponse),
            (_LIST_ALERT_POLICIES, self.list_alert_policies, monitoring_v3.ListAlertPoliciesResponse),
            *((rpc, None, None) for rpc in (*_REFUSED, *_UNIMPLEMENTED)),
        ]
        methods: dict[str, dict[str, Any]] = {}
        for rpc, answer, response in answers:
            methods.setdefault(rpc.service, {})[rpc.name] = grpc.unary_unary_rpc_method_handler(
                self._handler(rpc, answer),
                request_deserializer=rpc.request.deserialize,
                response_serializer=None if response is None else response.serialize,
            )
        return tuple(grpc.method_handlers_generic_handler(name, table) for name, table in methods.items())


_STOP_GRACE_S = 0.1


class MonitoringServer:
    """A running Monitoring twin; `address` is the host:port to give grpc.insecure_channel."""

    def __init__(self, server: Any, address: str, servicer: _Twin, executor: ThreadPoolExecutor) -> None:
        self._server = server
        self._servicer = servicer
        self._executor = executor
        self.address = address

    def stop(self) -> None:
        """Stop serving (calls in flight are cancelled, delayed ones end at once) and return once the server
        has shut down; its handler threads end as soon as their handlers return."""
        self._servicer.stop()
        # A short grace lets calls that were just woken finish, so clients see a clean GOAWAY; gRPC logs
        # the one that cancels calls ("Got goaway [2]") on the client's stderr.
        self._server.stop(grace=_STOP_GRACE_S).wait()
        self._executor.shutdown(wait=False, cancel_futures=True)


def start_monitoring_server(
    scenario: Scenario,
    log: RequestLog,
    faults: FaultInjector,
    host: str = "127.0.0.1",
    auth: TwinAuth | None = None,
) -> MonitoringServer:
    """Serve the scenario's Monitoring API on host and a free port; calls run on up to 64 threads. With
    `auth`, a call without a valid twin token answers UNAUTHENTICATED."""
    executor = ThreadPoolExecutor(max_workers=64)
    server = grpc.server(executor)
    servicer = _Twin(scenario, log, faults, auth)
    server.add_generic_rpc_handlers(servicer.generic_handlers())
    port = server.add_insecure_port(f"{host}:0")
    server.start()
    bracketed = f"[{host}]" if ":" in host else host
    return MonitoringServer(server, f"{bracketed}:{port}", servicer, executor)
