"""The raw answers of a triage's reads, recorded where they cross the wire, for `infradiag capture`.

Recording happens at the transports the official clients already use, so a capture makes the triage's own
calls through the triage's own code (Collector, registry) and keeps Google's JSON as Google sent it:

- REST: every client's `AuthorizedSession` (a requests.Session, google/cloud/*/transports/rest.py) gets a
  `response` hook, which sees each answer's method, URL, request body, status and JSON.
- gRPC (Monitoring): a client interceptor on the channel. A scenario holds raw points
  (docs/scenario-format.md, "Time series"), so each ListTimeSeries is sent with the same name, filter and
  interval but without its `aggregation` (https://cloud.google.com/monitoring/api/ref_v3/rpc/google.monitoring.v3#listtimeseriesrequest):
  the points of exactly the windows the signals read, which the replay aggregates as Google would.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from functools import cached_property
from typing import Any
from urllib.parse import parse_qs, urlsplit

from infradiag.collect.clients import Clients
from infradiag.identity import Resolved
from infradiag.target import ApiEndpoints

# google.rpc.Code names of the HTTP statuses Google's REST APIs answer with
# (https://cloud.google.com/apis/design/errors#handling_errors), for an error without `error.status`.
_CODE_OF_HTTP = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
_LIST_TIME_SERIES = "/google.monitoring.v3.MetricService/ListTimeSeries"


@dataclass(frozen=True)
class Exchange:
    """One call and its answer: `path` is the URL path (REST) or the full gRPC method; `error` the
    google.rpc code name of a refused call (then `answer` is None), with its ErrorInfo `reason` if any."""

    transport: str  # rest | grpc
    verb: str  # GET, POST (REST); "gRPC"
    path: str
    query: dict[str, list[str]]
    request: Any  # the REST body or the gRPC request, as JSON
    answer: dict[str, Any] | None
    error: str | None = None
    reason: str | None = None


class Recording:
    """Every exchange of one capture, in the order the answers arrived; safe to add to from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._exchanges: list[Exchange] = []

    def add(self, exchange: Exchange) -> None:
        """Keep one exchange."""
        with self._lock:
            self._exchanges.append(exchange)

    def exchanges(self) -> list[Exchange]:
        """A copy of the exchanges so far."""
        with self._lock:
            return list(self._exchanges)

    def rest_answer(self, response: Any, *args: Any, **kwargs: Any) -> None:
        """The requests `response` hook: records the answer of a REST call."""
        del args, kwargs
        url = urlsplit(response.request.url)
        body = response.request.body
        try:
            answer = response.json() if response.content else {}
        except ValueError:
            answer = None
        request = _json_or_none(body)
        if response.status_code < 400 and isinstance(answer, dict):
            self.add(
                Exchange("rest", response.request.method, url.path, parse_qs(url.query), request, answer)
            )
            return
        error = answer.get("error") if isinstance(answer, dict) else None
        error = error if isinstance(error, dict) else {}
        code = error.get("status") or _CODE_OF_HTTP.get(response.status_code, "UNKNOWN")
        reasons = [d.get("reason") for d in error.get("details") or [] if isinstance(d, dict)]
        reason = next((r for r in reasons if isinstance(r, str)), None)
        self.add(
            Exchange(
                "rest", response.request.method, url.path, parse_qs(url.query), request, None, code, reason
            )
        )


def _json_or_none(body: Any) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except (TypeError, ValueError):
        return None


def _message_json(message: Any) -> dict[str, Any]:
    """A proto-plus or protobuf message as Google's JSON (camelCase, enum names, int64 as strings)."""
    from google.protobuf import json_format

    pb = type(message).pb(message) if hasattr(type(message), "pb") else message
    found: dict[str, Any] = json_format.MessageToDict(pb)
    return found


def _recording_interceptor(recording: Recording) -> Any:
    """A unary-unary client interceptor recording each Monitoring call, ListTimeSeries sent raw."""
    import grpc

    class Recorder(grpc.UnaryUnaryClientInterceptor):  # type: ignore[misc]
        def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
            if details.method == _LIST_TIME_SERIES:
                request = _without_aggregation(request)
            outcome = continuation(details, request)
            code = outcome.code()
            if code == grpc.StatusCode.OK:
                answer = _message_json(outcome.result())
                recording.add(Exchange("grpc", "gRPC", details.method, {}, _message_json(request), answer))
            else:
                sent = _message_json(request)
                reason = _grpc_reason(outcome)
                recording.add(Exchange("grpc", "gRPC", details.method, {}, sent, None, code.name, reason))
            return outcome

    return Recorder()


def _grpc_reason(call: Any) -> str | None:
    """The ErrorInfo reason of a failed gRPC call (in `grpc-status-details-bin`, as google.rpc.Status), if
    it sent one: https://cloud.google.com/apis/design/errors#error_info"""
    from google.rpc import error_details_pb2
    from grpc_status import rpc_status  # type: ignore[import-untyped]

    status = rpc_status.from_call(call)
    for detail in status.details if status is not None else ():
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            return str(info.reason) or None
    return None


def _without_aggregation(request: Any) -> Any:
    """A copy of a ListTimeSeriesRequest without its aggregation: the raw points of the same window."""
    kind = type(request)
    copy = kind.deserialize(kind.serialize(request))
    kind.pb(copy).ClearField("aggregation")
    return copy


class RecordingClients(Clients):
    """Clients whose every answer lands in `recording`: the REST clients through a response hook on their
    session, the Monitoring clients through an interceptor on their channel (made here, also for Google)."""

    def __init__(self, endpoints: ApiEndpoints | None, auth: Resolved | None, recording: Recording) -> None:
        super().__init__(endpoints, auth)
        self.recording = recording

    def watched(self, client: Any) -> Any:
        """`client` with its REST session recording its answers (once)."""
        session = getattr(getattr(client, "_transport", None), "_session", None)
        if session is not None:
            hooks = session.hooks.setdefault("response", [])
            if self.recording.rest_answer not in hooks:
                hooks.append(self.recording.rest_answer)
        return client

    def rest(self, library: str, client: str) -> Any:
        """As Clients.rest, recorded."""
        return self.watched(super().rest(library, client))

    @cached_property
    def _monitoring_channel(self) -> Any:
        import grpc

        if self.endpoints is not None:
            channel = Clients._monitoring_channel.func(self)  # type: ignore[attr-defined]
        else:
            from google.cloud.monitoring_v3.services.metric_service.transports import (
                MetricServiceGrpcTransport,
            )

            channel = MetricServiceGrpcTransport.create_channel(credentials=self._credentials())
        return grpc.intercept_channel(channel, _recording_interceptor(self.recording))

    @cached_property
    def metrics(self) -> Any:
        """monitoring_v3.MetricServiceClient over the recording channel."""
        from google.cloud import monitoring_v3
        from google.cloud.monitoring_v3.services.metric_service.transports import MetricServiceGrpcTransport

        return monitoring_v3.MetricServiceClient(
            transport=MetricServiceGrpcTransport(channel=self._monitoring_channel)
        )

    @cached_property
    def alert_policies(self) -> Any:
        """monitoring_v3.AlertPolicyServiceClient over the recording channel."""
        from google.cloud import monitoring_v3
        from google.cloud.monitoring_v3.services.alert_policy_service.transports import (
            AlertPolicyServiceGrpcTransport,
        )

        return monitoring_v3.AlertPolicyServiceClient(
            transport=AlertPolicyServiceGrpcTransport(channel=self._monitoring_channel)
        )


def _recorded_property(name: str) -> cached_property[Any]:
    made = getattr(Clients, name)

    def client(self: RecordingClients) -> Any:
        return self.watched(made.func(self))

    client.__doc__ = f"{made.__doc__} Recorded."
    prop: cached_property[Any] = cached_property(client)
    prop.__set_name__(RecordingClients, name)
    return prop


# Every REST client property of Clients, recorded: a client added there is recorded without a change here.
for _name, _member in list(vars(Clients).items()):
    if (
        isinstance(_member, cached_property)
        and not _name.startswith("_")
        and _name not in vars(RecordingClients)
    ):
        setattr(RecordingClients, _name, _recorded_property(_name))
