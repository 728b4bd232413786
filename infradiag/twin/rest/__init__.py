"""The twin's REST APIs (Cloud Run Admin v2, Serverless VPC Access v1, Compute v1, Cloud SQL Admin) as one
aiohttp app.

Routes are data: (HTTP method, path pattern) -> (api, RPC, handler), one module per API. Each module
declares the paths it answers (PATH_PREFIXES); a request goes to the API whose prefix covers most of its
path, and a path no API declares is NOT_FOUND. Reads answer from the scenario; every mutating RPC answers
403 PERMISSION_DENIED and is logged, so tests can prove infradiag is read-only. Errors take each API's
shape (google_errors.py): AIP-193 for Run and VPC Access, the legacy shape with `errors` for Compute and
Cloud SQL.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Protocol

from aiohttp import web

from infradiag.twin.auth import IAM_PREFIX, METADATA_PREFIX, TOKEN_PATH, BearerProblem, TwinAuth
from infradiag.twin.faults import FaultInjector
from infradiag.twin.google_errors import LEGACY_SHAPE_APIS, GoogleError, fault_error, permission_denied
from infradiag.twin.requestlog import LoggedCall, RequestLog
from infradiag.twin.rest import compute, run, sql, vpcaccess
from infradiag.twin.rest.core import ApiScope, Call, Route, api_scopes
from infradiag.twin.scenario import Scenario

__all__ = ["ENDPOINT_APIS", "REST_APIS", "RestApis", "api_of", "make_app", "method_names"]

Answer = tuple[int, dict[str, Any]]
READ_METHODS = ("GET", "HEAD")
# The api of a request whose path no API declares (logged so; answered in the AIP-193 shape).
UNKNOWN_API = "unknown"

_MODULES = (run, vpcaccess, compute, sql)
_SCOPES = tuple(scope for module in _MODULES for scope in api_scopes(module.PATH_PREFIXES))
# Every api name the REST APIs log and fault by, in declaration order.
REST_APIS = tuple(dict.fromkeys(scope.api for scope in _SCOPES))
# The APIs a client library reaches at the twin's REST address: each module's first declared api (the
# others, such as Run's `iam`, are RPC families served under the same API).
ENDPOINT_APIS = tuple(module.PATH_PREFIXES[0][0] for module in _MODULES)


class _RouteTable(Protocol):
    def routes(self) -> list[Route]: ...


@dataclass(frozen=True)
class _ServedApi:
    scopes: tuple[ApiScope, ...]
    routes: list[Route]


class RestApis:
    """Builds the route table for a scenario and answers requests from it."""

    def __init__(
        self, scenario: Scenario, service_urls: Mapping[str, str], log: RequestLog, faults: FaultInjector
    ):
        self.scenario = scenario
        self.log = log
        self.faults = faults
        tables: dict[ModuleType, _RouteTable] = {
            run: run.RunApi(scenario, service_urls),
            vpcaccess: vpcaccess.VpcAccessApi(scenario),
            compute: compute.ComputeApi(scenario),
            sql: sql.SqlApi(scenario),
        }
        self._served = [
            _ServedApi(api_scopes(module.PATH_PREFIXES), tables[module].routes()) for module in _MODULES
        ]
        self.routes: list[Route] = [item for served in self._served for item in served.routes]

    def route(self, http_method: str, path: str) -> tuple[Route | None, re.Match[str] | None]:
        """The route for a request among the routes of the API the path belongs to, or (None, None)."""
        owner = max(self._served, key=lambda served: _covered(served.scopes, path))
        if _covered(owner.scopes, path) == 0:
            return None, None
        for candidate in owner.routes:
            if candidate.http_method != http_method:
                continue
            match = candidate.pattern.fullmatch(path)
            if match:
                return candidate, match
        return None, None

    async def answer(
        self, http_method: str, path: str, query: Mapping[str, str], body: bytes = b""
    ) -> Answer:
        """Status and JSON body for one request, logging it."""
        route, match = self.route(http_method, path)
        if route is None or match is None:
            return self._unrouted(http_method, path)
        rpc = route.rpc_for(match)
        mutating = route.handler is None
        try:
            answer = await self._dispatch(route, match, query, body)
        except GoogleError as error:
            self.log.record(LoggedCall(route.api, rpc, "rest", path, mutating, error.code))
            return error.http_status(), error.body(legacy=_legacy(route.api))
        self.log.record(LoggedCall(route.api, rpc, "rest", path, False, "OK"))
        return 200, answer

    def _unrouted(self, http_method: str, path: str) -> Answer:
        api = api_of(path)
        mutating = http_method not in READ_METHODS
        if api == UNKNOWN_API:
            error = GoogleError("NOT_FOUND", f"No API of the twin serves {path}.")
        elif mutating:
            error = GoogleError(
                "PERMISSION_DENIED", "The twin is read-only: the caller does not have permission."
            )
        else:
            error = GoogleError("NOT_FOUND", f"The twin serves no method at {path}.")
        self.log.record(LoggedCall(api, f"{http_method} {path}", "rest", path, mutating, error.code))
        return error.http_status(), error.body(legacy=_legacy(api))

    async def _dispatch(
        self, route: Route, match: re.Match[str], query: Mapping[str, str], body: bytes
    ) -> Any:
        rpc, permission = route.rpc_for(match), route.permission_for(match)
        project = match.groupdict().get("project", self.scenario.project)
        number = self.scenario.projectNumber or self.scenario.project
        fault = self.faults.match(route.api, rpc)
        if fault is not None:
            if fault.delayMs:
                await asyncio.sleep(fault.delayMs / 1000)
            if fault.error is not None:
                raise fault_error(
                    route.api, fault.error, fault.reason, number, permission, f"projects/{project}"
                )
        if project not in (self.scenario.project, self.scenario.projectNumber):
            # Google does not tell whether another project exists: it denies the permission.
            raise permission_denied(route.api, permission, f"projects/{project}")
        call = Call(match, query, _json_body(body))
        if route.handler is None:
            raise permission_denied(route.api, permission, call.relative_name())
        return route.handler(call)


def method_names() -> dict[str, list[str]]:
    """Every RPC name the REST APIs know, per api, in route order; `{verb}` stands for any custom verb."""
    empty = Scenario.model_validate(
        {
            "apiVersion": "infradiag/twin-v1",
            "name": "routes",
            "project": "routes",
            "region": "r",
            "now": "1970-01-01T00:00:00Z",
        }
    )
    apis = RestApis(empty, {}, RequestLog(), FaultInjector([]))
    names: dict[str, list[str]] = {api: [] for api in REST_APIS}
    for route in apis.routes:
        if route.rpc not in names[route.api]:
            names[route.api].append(route.rpc)
    return names


def _legacy(api: str) -> bool:
    return api in LEGACY_SHAPE_APIS


def _json_body(body: bytes) -> Any:
    if not body.strip():
        return None
    try:
        return json.loads(body)
    except ValueError:
        raise GoogleError("INVALID_ARGUMENT", "Invalid JSON payload received.") from None


def api_of(path: str) -> str:
    """The api whose declared prefix covers most of `path`, or UNKNOWN_API when no API declares it."""
    best = max(_SCOPES, key=lambda scope: scope.matched_length(path) or 0)
    return best.api if best.matched_length(path) else UNKNOWN_API


def _covered(scopes: tuple[ApiScope, ...], path: str) -> int:
    return max(scope.matched_length(path) or 0 for scope in scopes)


def make_app(apis: RestApis, auth: TwinAuth | None = None) -> web.Application:
    """An aiohttp app that answers every path from `apis`; with `auth` (a twin requiring credentials) it
    also serves the token endpoint and IAM Credentials, and answers a call without a twin token
    UNAUTHENTICATED."""

    async def handle(request: web.Request) -> web.Response:
        body = await request.read()
        if auth is not None:
            answered = _authenticated(auth, apis.log, request, body)
            if answered is not None:
                return answered
        status, answer = await apis.answer(request.method, request.path, request.query, body)
        return web.json_response(answer, status=status)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    return app


def _authenticated(auth: TwinAuth, log: RequestLog, request: web.Request, body: bytes) -> web.Response | None:
    """The answer of the token endpoint, of IAM Credentials, or UNAUTHENTICATED for an API call without a
    valid twin token; None when the call goes on to the API. Only paths and codes are logged."""
    path = request.path
    if request.method == "GET" and (path == "/" or path.startswith(METADATA_PREFIX)):
        status, answer = auth.metadata(path, dict(request.query), request.headers.get("Metadata-Flavor"))
        log.record(LoggedCall("metadata", path, "rest", path, False, "OK" if status == 200 else str(status)))
        flavor = {"Metadata-Flavor": "Google"}
        if isinstance(answer, str):
            return web.Response(status=status, text=answer, headers=flavor)
        return web.json_response(answer, status=status, headers=flavor)
    if path == TOKEN_PATH and request.method == "POST":
        from urllib.parse import parse_qsl

        form = dict(parse_qsl(body.decode("utf-8", "replace")))
        token_uri = f"{request.scheme}://{request.host}{TOKEN_PATH}"
        status, answer = auth.token_endpoint(form, token_uri)
        log.record(
            LoggedCall("oauth2", "token", "rest", path, False, "OK" if status == 200 else "INVALID_ARGUMENT")
        )
        return web.json_response(answer, status=status)
    authorization = request.headers.get("Authorization")
    if path.startswith(IAM_PREFIX) and request.method == "POST":
        try:
            payload = json.loads(body) if body.strip() else None
        except ValueError:
            payload = None
        status, answer = auth.iam_credentials(path, authorization, payload)
        code = "OK" if status == 200 else str(answer["error"].get("status", status))
        log.record(LoggedCall("iamcredentials", path.rsplit(":", 1)[-1], "rest", path, False, code))
        return web.json_response(answer, status=status)
    caller = auth.principal(authorization)
    if not isinstance(caller, BearerProblem):
        return None
    api = api_of(path)
    error = caller.error(api, f"{request.method} {path}")
    log.record(
        LoggedCall(
            api, f"{request.method} {path}", "rest", path, request.method not in READ_METHODS, error.code
        )
    )
    return web.json_response(
        error.body(legacy=_legacy(api)),
        status=error.http_status(),
        headers={"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'},
    )
