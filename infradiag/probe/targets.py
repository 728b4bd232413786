"""Which URLs to probe for each service, and what a healthy answer looks like there.

Paths, in order of precedence: the service's `[environments.NAME.probes.SERVICE] paths` (each a path on the
service URL, or a full URL such as the custom domain users reach it by); else the paths of the
service's own startup and liveness probes (`httpGet.path`, which Cloud Run itself uses to judge the container,
https://cloud.google.com/run/docs/configuring/healthchecks); else the environment's `health_path`.
Checks: a path's own setting, else its service's, else the default (200; 101 for a WebSocket).
"""

from __future__ import annotations

from infradiag.config.probes import PathProbe, ServiceProbes
from infradiag.evidence.model import ProbeTarget, ServiceEvidence
from infradiag.target import Target


def probe_targets(services: list[ServiceEvidence], target: Target) -> list[ProbeTarget]:
    """Every health URL to probe, in service order; a service without a URL is skipped unless every one of
    its probes names a URL of its own."""
    targets: list[ProbeTarget] = []
    for service in services:
        settings = target.probe.probes.get(service.name, ServiceProbes())
        paths = settings.paths or [
            PathProbe(path=p) for p in service.health_paths or [target.probe.health_path]
        ]
        if not service.uri and not all(path.url for path in paths):
            continue
        base = (service.uri or "").rstrip("/")
        auth = settings.auth or target.probe.auth
        for path in paths:
            targets.append(_target(service.name, base, path, settings, auth))
    return targets


def _target(
    service: str, base: str, path: PathProbe, settings: ServiceProbes, auth: str | None
) -> ProbeTarget:
    def pick(name: str) -> object:
        own = getattr(path, name)
        return own if own is not None else getattr(settings, name)

    url = path.url or base + (path.path or "")
    fields = {
        "service": service,
        "url": url,
        "path": path.path or url,  # a probe of a URL of its own is named by that URL
        "kind": pick("kind") or "http",
        "expect_status": pick("expect_status"),  # None: the kind's default
        "body_check": pick("body_check"),
        "expect_headers": pick("expect_headers") or {},
        "latency_budget_ms": pick("latency_budget_ms"),
        "message": pick("message"),
        "auth": auth,
        # An ID token for Cloud Run names the service URL as its audience, whatever the path.
        "audience": (base or _origin(url)) if auth == "id_token" else None,
    }
    if fields["expect_status"] is None and fields["kind"] == "http":
        fields["expect_status"] = 200
    return ProbeTarget.model_validate(fields)


def _origin(url: str) -> str:
    import httpx  # here: the triage's process lists targets without loading httpx (dispatch.py)

    parsed = httpx.URL(url)
    return f"{parsed.scheme}://{parsed.netloc.decode()}"
