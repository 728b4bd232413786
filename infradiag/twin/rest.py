"""The twin's REST APIs (Cloud Run Admin v2, Serverless VPC Access v1), as one aiohttp app.

Routes are data: (HTTP method, path pattern) -> (api, RPC, handler). Reads answer from the scenario;
every mutating RPC answers 403 PERMISSION_DENIED and is logged, so tests can prove infradiag is read-only.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from infradiag.twin.faults import FaultInjector
from infradiag.twin.google_errors import error_info, fault_message, rest_error
from infradiag.twin.requestlog import LoggedCall, RequestLog
from infradiag.twin.scenario import Resource, Scenario

Answer = tuple[int, dict[str, Any]]
_SEGMENT = r"[^/:]+"

# Neither API documents its default page size; the twin uses 100 and caps requests at 1000.
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


class RestError(Exception):
    """An error answer in Google's shape."""

    def __init__(self, code: str, message: str, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details


@dataclass(frozen=True)
class Collection:
    """Resources of one kind, each named `PARENT/KIND/ID`, listed under `response_key`."""

    kind: str  # the path segment before the id, e.g. "services"
    response_key: str
    items: tuple[Resource, ...]

    def parent_of(self, item: Resource) -> str:
        return str(item.get("name", "")).rsplit(f"/{self.kind}/", 1)[0]

    def get(self, name: str) -> Resource:
        for item in self.items:
            if item.get("name") == name:
                return item
        raise RestError("NOT_FOUND", f"Resource '{name}' was not found.")

    def list(self, parent: str) -> list[Resource]:
        # `locations/-` lists every location, as the Cloud Run and VPC Access list calls document.
        pattern = re.escape(parent).replace(r"/locations/\-", "/locations/[^/]+")
        return [item for item in self.items if re.fullmatch(pattern, self.parent_of(item))]


def _encode_token(offset: int, parent: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset, "p": parent}).encode()).decode()


def _decode_token(token: str, parent: str) -> int:
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        offset = int(data["o"])
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise RestError("INVALID_ARGUMENT", "Invalid page token.") from None
    if data.get("p") != parent:
        raise RestError("INVALID_ARGUMENT", "The page token does not belong to this request.")
    return offset


def paginate(items: list[Resource], key: str, parent: str, query: Mapping[str, str]) -> dict[str, Any]:
    """One page of `items` as `{key: [...], nextPageToken}` per AIP-158."""
    try:
        size = int(query.get("pageSize") or 0)
    except ValueError:
        raise RestError("INVALID_ARGUMENT", "pageSize must be an integer.") from None
    if size < 0:
        raise RestError("INVALID_ARGUMENT", "pageSize must not be negative.")
    size = min(size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    token = query.get("pageToken") or ""
    offset = _decode_token(token, parent) if token else 0
    page: dict[str, Any] = {}
    if items[offset : offset + size]:
        page[key] = items[offset : offset + size]
    if offset + size < len(items):
        page["nextPageToken"] = _encode_token(offset + size, parent)
    return page


Handler = Callable[[re.Match[str], Mapping[str, str]], dict[str, Any]]


@dataclass(frozen=True)
class Route:
    api: str
    rpc: str
    http_method: str
    pattern: re.Pattern[str]
    handler: Handler | None  # None: a mutating RPC, always refused


def _path(template: str) -> re.Pattern[str]:
    """`/v2/{parent}/services` style template -> regex; `{x}` matches one path segment."""
    return re.compile(re.sub(r"\{(\w+)\}", lambda m: f"(?P<{m.group(1)}>{_SEGMENT})", template))


class RestApis:
    """Builds the route table for a scenario and answers requests from it."""

    def __init__(
        self, scenario: Scenario, service_urls: Mapping[str, str], log: RequestLog, faults: FaultInjector
    ):
        self.scenario = scenario
        self.log = log
        self.faults = faults
        self.services = Collection(
            "services",
            "services",
            tuple(self._served_service(s, service_urls) for s in scenario.run.services),
        )
        self.revisions = Collection("revisions", "revisions", tuple(scenario.run.revisions))
        self.connectors = Collection("connectors", "connectors", tuple(scenario.vpcaccess.connectors))
        self.routes = self._routes()

    @staticmethod
    def _served_service(service: Resource, service_urls: Mapping[str, str]) -> Resource:
        short = str(service.get("name", "")).rsplit("/", 1)[-1]
        url = service_urls.get(short)
        if url is None:
            return service
        return {**service, "uri": url, "urls": [url]}

    def _check_project(self, project: str) -> None:
        if project not in (self.scenario.project, self.scenario.projectNumber):
            raise RestError("PERMISSION_DENIED", f"Permission denied on resource project {project}.")

    def _lister(self, collection: Collection) -> Handler:
        def handle(match: re.Match[str], query: Mapping[str, str]) -> dict[str, Any]:
            self._check_project(match["project"])
            parent = match.group(0).split("/", 2)[2].rsplit(f"/{collection.kind}", 1)[0]
            return paginate(collection.list(parent), collection.response_key, parent, query)

        return handle

    def _getter(self, collection: Collection) -> Handler:
        def handle(match: re.Match[str], query: Mapping[str, str]) -> dict[str, Any]:
            self._check_project(match["project"])
            return collection.get(match.group(0).split("/", 2)[2])

        return handle

    def _routes(self) -> list[Route]:
        loc = "/projects/{project}/locations/{location}"
        svc = f"{loc}/services/{{service}}"
        con = f"{loc}/connectors/{{connector}}"
        table: list[tuple[str, str, str, str, Handler | None]] = [
            # https://cloud.google.com/run/docs/reference/rest/v2/projects.locations.services
            ("run", "ListServices", "GET", f"/v2{loc}/services", self._lister(self.services)),
            ("run", "GetService", "GET", f"/v2{svc}", self._getter(self.services)),
            ("run", "CreateService", "POST", f"/v2{loc}/services", None),
            ("run", "UpdateService", "PATCH", f"/v2{svc}", None),
            ("run", "DeleteService", "DELETE", f"/v2{svc}", None),
            ("iam", "SetIamPolicy", "POST", f"/v2{svc}:setIamPolicy", None),
            # https://cloud.google.com/run/docs/reference/rest/v2/projects.locations.services.revisions
            ("run", "ListRevisions", "GET", f"/v2{svc}/revisions", self._lister(self.revisions)),
            ("run", "GetRevision", "GET", f"/v2{svc}/revisions/{{revision}}", self._getter(self.revisions)),
            ("run", "DeleteRevision", "DELETE", f"/v2{svc}/revisions/{{revision}}", None),
            # https://cloud.google.com/vpc/docs/reference/vpcaccess/rest/v1/projects.locations.connectors
            ("vpcaccess", "ListConnectors", "GET", f"/v1{loc}/connectors", self._lister(self.connectors)),
            ("vpcaccess", "GetConnector", "GET", f"/v1{con}", self._getter(self.connectors)),
            ("vpcaccess", "CreateConnector", "POST", f"/v1{loc}/connectors", None),
            ("vpcaccess", "PatchConnector", "PATCH", f"/v1{con}", None),
            ("vpcaccess", "DeleteConnector", "DELETE", f"/v1{con}", None),
        ]
        return [Route(api, rpc, verb, _path(path), handler) for api, rpc, verb, path, handler in table]

    def route(self, http_method: str, path: str) -> tuple[Route | None, re.Match[str] | None]:
        """The route for a request, or (None, None)."""
        for route in self.routes:
            match = route.pattern.fullmatch(path)
            if match and route.http_method == http_method:
                return route, match
        return None, None

    async def answer(self, http_method: str, path: str, query: Mapping[str, str]) -> Answer:
        """Status and JSON body for one request, logging it."""
        route, match = self.route(http_method, path)
        if route is None or match is None:
            mutating = http_method not in ("GET", "HEAD")
            code = "PERMISSION_DENIED" if mutating else "NOT_FOUND"
            self.log.record(LoggedCall(_api_of(path), f"{http_method} {path}", "rest", path, mutating, code))
            message = "The caller does not have permission" if mutating else f"Unknown path {path}."
            return rest_error(code, message)
        try:
            body = await self._dispatch(route, match, query)
        except RestError as exc:
            self.log.record(LoggedCall(route.api, route.rpc, "rest", path, route.handler is None, exc.code))
            return rest_error(exc.code, exc.message, exc.details)
        self.log.record(LoggedCall(route.api, route.rpc, "rest", path, False, "OK"))
        return 200, body

    async def _dispatch(self, route: Route, match: re.Match[str], query: Mapping[str, str]) -> dict[str, Any]:
        fault = self.faults.match(route.api, route.rpc)
        if fault is not None:
            if fault.delayMs:
                await asyncio.sleep(fault.delayMs / 1000)
            if fault.error is not None:
                number = self.scenario.projectNumber or self.scenario.project
                message, reason = fault_message(route.api, fault.error, fault.reason, number, route.rpc)
                raise RestError(fault.error, message, [error_info(route.api, reason, number)])
        if route.handler is None:
            raise RestError("PERMISSION_DENIED", f"The twin is read-only: {route.rpc} is refused.")
        return route.handler(match, query)


def _api_of(path: str) -> str:
    if path.startswith("/v2/"):
        return "run"
    if "/connectors" in path:
        return "vpcaccess"
    if path.startswith("/compute/"):
        return "compute"
    return "sql"


def make_app(apis: RestApis) -> web.Application:
    """An aiohttp app that answers every path from `apis`."""

    async def handle(request: web.Request) -> web.Response:
        status, body = await apis.answer(request.method, request.path, request.query)
        return web.json_response(body, status=status)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    return app
