"""Each Cloud Run service's HTTP endpoints on loopback, answering as the scenario's `endpoints` says.

One port per service, served by aiohttp inside the caller's event loop.

Faults act at two levels:

- Per connection (the port as a whole): `refuse`, `tls-expired`, `tls-expiring`, `tls-untrusted`. A port
  has one such fault: the one on `"*"` if it has one, else the first path (in scenario order) that has one.
  `refuse` means nothing listens on the port. With a TLS fault every path is served over HTTPS with that
  certificate, and each path still answers with its own status, body, headers and delay, which a client that
  skips verification can see.
- Per request (the path): `reset`, `hang`, `slow-body`. The request line is read first, because the path
  decides the behaviour; `delayMs` is waited before the fault takes effect.

TLS certificates are made at run time with trustme. `tls-untrusted` is signed by a CA created and thrown
away on the spot. `tls-expired` and `tls-expiring` are signed by `ServiceEndpoints.ca_pem`, which plays a
public CA: a client that trusts it sees "certificate has expired" rather than "unknown issuer", as it would
against a real server, and a `tls-expiring` certificate verifies, its notAfter `expiresInDays` after the
machine's clock.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import json
import socket
import ssl
import struct
from collections.abc import Callable
from typing import TYPE_CHECKING

from aiohttp import WSMsgType, web
from multidict import CIMultiDict

from infradiag.twin.scenario import DEFAULT_EXPIRES_IN_DAYS, EndpointBehaviour, Fault

if TYPE_CHECKING:
    import trustme

PORT_FAULTS: tuple[Fault, ...] = ("refuse", "tls-expired", "tls-expiring", "tls-untrusted")
# How long before the machine's clock a `tls-expiring` certificate became valid, as a renewed one would be.
EXPIRING_VALID_SINCE = dt.timedelta(days=30)
HEALTHY = EndpointBehaviour.model_validate({"json": {"status": "ok"}})
NOT_FOUND = EndpointBehaviour.model_validate({"status": 404, "body": "404 Not Found"})
# A slow body needs bytes to be slow with.
SLOW_DEFAULT_BODY = b'{"status": "ok"}'
# How long close() lets in-flight handlers finish before cancelling them; hung ones never finish.
SHUTDOWN_GRACE_S = 0.1


def port_fault(paths: dict[str, EndpointBehaviour]) -> Fault | None:
    """The service's per-connection fault: from `"*"` if it has one, else from the first path that has one."""
    behaviour = _port_fault_behaviour(paths)
    return behaviour.fault if behaviour is not None else None


def _port_fault_behaviour(paths: dict[str, EndpointBehaviour]) -> EndpointBehaviour | None:
    default = paths.get("*")
    if default is not None and default.fault in PORT_FAULTS:
        return default
    return next((b for b in paths.values() if b.fault in PORT_FAULTS), None)


def behaviour_for(paths: dict[str, EndpointBehaviour] | None, path: str) -> EndpointBehaviour:
    """The behaviour for one request path: the path's own, else `"*"`, else 404 (200 ok if none listed)."""
    if paths is None:
        return HEALTHY
    return paths.get(path) or paths.get("*") or NOT_FOUND


def _body_and_headers(behaviour: EndpointBehaviour) -> tuple[bytes, CIMultiDict[str]]:
    headers: CIMultiDict[str] = CIMultiDict(behaviour.headers)
    if behaviour.json_body is not None:
        headers.setdefault("Content-Type", "application/json")
        return json.dumps(behaviour.json_body).encode(), headers
    if behaviour.body:
        headers.setdefault("Content-Type", "text/plain; charset=utf-8")
        return behaviour.body.encode(), headers
    return b"", headers


def _reset(request: web.BaseRequest) -> None:
    transport = request.transport
    if transport is None:  # the client has already gone
        return
    # SO_LINGER with a zero timeout makes closing the socket send RST instead of FIN.
    transport.get_extra_info("socket").setsockopt(
        socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
    )
    transport.abort()


async def _slow_body(request: web.BaseRequest, behaviour: EndpointBehaviour) -> web.StreamResponse:
    body, headers = _body_and_headers(behaviour)
    body = body or SLOW_DEFAULT_BODY
    response = web.StreamResponse(status=behaviour.status, headers=headers)
    response.content_length = len(body)
    await response.prepare(request)
    for index in range(len(body)):
        if index:
            await asyncio.sleep(1.0)
        # aiohttp sends the status line and headers together with the first byte.
        await response.write(body[index : index + 1])
    await response.write_eof()
    return response


# Cloud Run's answers to a private service's caller without a valid ID token: none (403), or one that is
# not valid for this service (401).
_FORBIDDEN = "Error: Forbidden\nYour client does not have permission to get URL {path} from this server.\n"
_UNAUTHORIZED = "Error: Unauthorized\nYour client does not have permission to the requested URL {path}.\n"

# Whether an Authorization header value carries a valid ID token for an audience: None without one.
IdTokenCheck = Callable[[str | None, str], bool | None]


class _Handler:
    """Answers every request to one service according to its per-path behaviours; a private service's
    requests first need an ID token for its URL (`check`)."""

    def __init__(self, paths: dict[str, EndpointBehaviour] | None, check: IdTokenCheck | None = None) -> None:
        self._paths = paths
        self._check = check
        self.url = ""

    async def __call__(self, request: web.BaseRequest) -> web.StreamResponse:
        if self._check is not None:
            valid = self._check(request.headers.get("Authorization"), self.url)
            if valid is not True:
                text = (_FORBIDDEN if valid is None else _UNAUTHORIZED).format(path=request.path)
                status = 403 if valid is None else 401
                return web.Response(status=status, text=text, content_type="text/html")
        behaviour = behaviour_for(self._paths, request.path)
        if behaviour.delayMs:
            await asyncio.sleep(behaviour.delayMs / 1000)
        if behaviour.fault == "hang":
            # Cancelled when the client goes away or the endpoints close.
            await asyncio.Event().wait()
        if behaviour.fault == "reset":
            _reset(request)
            # aiohttp's attempt to write this to the aborted transport is dropped quietly.
            return web.Response(status=behaviour.status)
        if behaviour.fault == "slow-body":
            return await _slow_body(request, behaviour)
        if behaviour.status == 101:
            return await _websocket_echo(request, behaviour)
        body, headers = _body_and_headers(behaviour)
        return web.Response(status=behaviour.status, body=body, headers=headers)


async def _websocket_echo(request: web.BaseRequest, behaviour: EndpointBehaviour) -> web.StreamResponse:
    """`status: 101`: a WebSocket upgrade is accepted and every message echoed back until the client closes;
    a plain request gets 426 Upgrade Required, as a WebSocket-only endpoint answers it."""
    socket_response = web.WebSocketResponse()
    socket_response.headers.update(behaviour.headers)
    if not socket_response.can_prepare(request).ok:
        return web.Response(status=426, headers={"Upgrade": "websocket"}, text="Upgrade Required")
    await socket_response.prepare(request)
    async for message in socket_response:
        if message.type == WSMsgType.TEXT:
            await socket_response.send_str(message.data)
        elif message.type == WSMsgType.BINARY:
            await socket_response.send_bytes(message.data)
    return socket_response


def _url_host(host: str) -> str:
    try:
        return f"[{host}]" if ipaddress.ip_address(host).version == 6 else host
    except ValueError:
        return host


class _Certificates:
    """Makes server certificates on demand; keeps the CA that signs expired ones so clients can trust it."""

    def __init__(self) -> None:
        self._ca: trustme.CA | None = None

    @property
    def ca_pem(self) -> bytes:
        if self._ca is None:
            return b""
        pem: bytes = self._ca.cert_pem.bytes()
        return pem

    def server_context(self, fault: Fault, host: str, expires_in_days: float | None = None) -> ssl.SSLContext:
        """A server context for `fault`: `tls-expired` ended a day ago, `tls-expiring` ends `expires_in_days`
        (default DEFAULT_EXPIRES_IN_DAYS) after the machine's clock, both signed by the twin's CA; anything
        else by a CA nobody trusts."""
        # Imported here: only scenarios with TLS faults need trustme.
        import trustme

        if fault in ("tls-expired", "tls-expiring"):
            if self._ca is None:
                self._ca = trustme.CA(organization_name="infradiag twin CA")
            now = dt.datetime.now(dt.UTC)
            if fault == "tls-expired":
                not_before, not_after = now - dt.timedelta(days=90), now - dt.timedelta(days=1)
            else:
                days = DEFAULT_EXPIRES_IN_DAYS if expires_in_days is None else expires_in_days
                not_before, not_after = now - EXPIRING_VALID_SINCE, now + dt.timedelta(days=days)
            leaf = self._ca.issue_cert(host, "localhost", not_before=not_before, not_after=not_after)
        else:
            leaf = trustme.CA(organization_name="nobody trusts this CA").issue_cert(host, "localhost")
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        leaf.configure_cert(context)
        return context


class ServiceEndpoints:
    """The endpoints of every listed service, each on its own loopback port."""

    urls: dict[str, str]  # service short name -> base URL
    ca_pem: bytes  # PEM of the CA that signs `tls-expired` and `tls-expiring` certificates; empty without one

    def __init__(self) -> None:
        self.urls = {}
        self.ca_pem = b""
        self._runners: list[web.ServerRunner] = []
        self._held: list[socket.socket] = []
        self._handlers: dict[str, _Handler] = {}  # service -> handler, for swap()
        self._port_faults: dict[str, Fault | None] = {}

    @classmethod
    async def start(
        cls,
        services: list[str],
        behaviours: dict[str, dict[str, EndpointBehaviour]],
        host: str = "127.0.0.1",
        private: dict[str, IdTokenCheck] | None = None,
    ) -> ServiceEndpoints:
        """Listen for every service on its own ephemeral port of `host`; `urls` says where each one is.
        The services in `private` answer only requests whose ID token their check accepts."""
        endpoints = cls()
        certificates = _Certificates()
        try:
            for name in dict.fromkeys(services):
                endpoints.urls[name] = await endpoints._listen(
                    name, behaviours.get(name), host, certificates, (private or {}).get(name)
                )
        except BaseException:
            await endpoints.close()
            raise
        endpoints.ca_pem = certificates.ca_pem
        return endpoints

    async def _listen(
        self,
        name: str,
        paths: dict[str, EndpointBehaviour] | None,
        host: str,
        certificates: _Certificates,
        check: IdTokenCheck | None = None,
    ) -> str:
        faulty = _port_fault_behaviour(paths) if paths else None
        fault = faulty.fault if faulty is not None else None
        self._port_faults[name] = fault
        if fault == "refuse":
            sock = _bound_not_listening(host)
            self._held.append(sock)
            return f"http://{_url_host(host)}:{sock.getsockname()[1]}"
        context = None
        if faulty is not None and fault is not None:
            context = certificates.server_context(fault, host, faulty.expiresInDays)
        handler = self._handlers[name] = _Handler(paths, check)
        runner = await _serve(handler, host, context)
        self._runners.append(runner)
        scheme = "https" if context is not None else "http"
        handler.url = f"{scheme}://{_url_host(host)}:{runner.addresses[0][1]}"
        return handler.url

    def swap(self, behaviours: dict[str, dict[str, EndpointBehaviour]]) -> None:
        """Answer with `behaviours` from the next request on, on the same ports. A connection-level fault
        decides how a port listens, so a service's cannot change (ValueError)."""
        for name in self.urls:
            paths = behaviours.get(name)
            if (port_fault(paths) if paths else None) != self._port_faults[name]:
                raise ValueError(f"service {name}: swap cannot change a connection-level fault")
        for name, handler in self._handlers.items():
            handler._paths = behaviours.get(name)

    async def close(self) -> None:
        """Stop every listener and drop every open connection, hung ones included, in well under a second."""
        runners, self._runners = self._runners, []
        await asyncio.gather(*(runner.cleanup() for runner in runners))
        held, self._held = self._held, []
        for sock in held:
            sock.close()


def _bound_not_listening(host: str) -> socket.socket:
    # A bound socket that never listens reserves the port (no one else can take it) while every connection
    # attempt to it is refused.
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.bind((host, 0))
    return sock


async def _serve(handler: _Handler, host: str, context: ssl.SSLContext | None) -> web.ServerRunner:
    server = web.Server(handler, handler_cancellation=True, access_log=None)
    runner = web.ServerRunner(server, shutdown_timeout=SHUTDOWN_GRACE_S)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, 0, ssl_context=context)
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    return runner
