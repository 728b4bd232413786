"""Health target discovery: per-service config, else the service's own probe paths, else the default."""

from __future__ import annotations

from infradiag.config.model import ProbeSettings
from infradiag.config.probes import ServiceProbes
from infradiag.evidence.model import ProbeTarget, ServiceEvidence
from infradiag.probe import probe_targets
from infradiag.target import Target


def service(name: str, health_paths: list[str] | None = None, uri: str | None = "default") -> ServiceEvidence:
    return ServiceEvidence(
        name=name,
        resource=f"projects/p/locations/r/services/{name}",
        region="r",
        uri=f"https://{name}-abc-uc.a.run.app/" if uri == "default" else uri,
        health_paths=health_paths or [],
    )


def target(**probe: object) -> Target:
    settings = ProbeSettings.model_validate(probe)
    return Target(environment="e", project="p", region="r", probe=settings)


def test_own_probe_paths_else_the_environment_default_and_no_uri_no_probe() -> None:
    found = probe_targets(
        [service("a"), service("b", ["/startup", "/live"]), service("c", uri=None)],
        target(health_path="/healthz"),
    )
    assert [(t.service, t.url, t.path) for t in found] == [
        ("a", "https://a-abc-uc.a.run.app/healthz", "/healthz"),
        ("b", "https://b-abc-uc.a.run.app/startup", "/startup"),
        ("b", "https://b-abc-uc.a.run.app/live", "/live"),
    ]
    assert all((t.kind, t.expect_status, t.auth, t.body_check) == ("http", 200, None, None) for t in found)


def test_config_paths_win_and_path_settings_override_the_service_settings() -> None:
    settings = ServiceProbes.model_validate(
        {
            "paths": [
                "/health",
                {"path": "/ready", "expect_status": 204},
                {"path": "/ws", "kind": "websocket"},
            ],
            "body_check": 'body.status == "ok"',
            "expect_headers": {"content-type": "application/json.*"},
            "latency_budget_ms": 500,
        }
    )
    health, ready, ws = probe_targets([service("backend", ["/own"])], target(probes={"backend": settings}))
    assert (health.path, health.expect_status, health.body_check) == ("/health", 200, 'body.status == "ok"')
    assert health.expect_headers == {"content-type": "application/json.*"}
    assert health.latency_budget_ms == 500
    assert (ready.path, ready.expect_status, ready.kind) == ("/ready", 204, "http")
    assert (ws.path, ws.kind, ws.expect_status) == ("/ws", "websocket", 101)


def test_checks_without_paths_apply_to_the_discovered_paths() -> None:
    settings = ServiceProbes.model_validate({"expect_status": 204})
    [found] = probe_targets([service("a", ["/live"])], target(probes={"a": settings}))
    assert (found.path, found.expect_status) == ("/live", 204)


def test_auth_comes_from_the_service_else_the_environment_and_an_id_token_names_the_service_url() -> None:
    own = ServiceProbes.model_validate({"auth": "env:ADMIN_TOKEN"})
    a, b = probe_targets([service("a"), service("b")], target(auth="id_token", probes={"b": own}))
    assert (a.auth, a.audience) == ("id_token", "https://a-abc-uc.a.run.app")
    assert (b.auth, b.audience) == ("env:ADMIN_TOKEN", None)


def test_a_websocket_target_expects_101_unless_told_otherwise() -> None:
    assert ProbeTarget(service="s", url="http://x/ws", kind="websocket").expect_status == 101
    assert (
        ProbeTarget(service="s", url="http://x/ws", kind="websocket", expect_status=200).expect_status == 200
    )
    assert ProbeTarget(service="s", url="http://x/h").expect_status == 200


def test_a_probe_may_name_a_url_of_its_own_such_as_a_custom_domain() -> None:
    settings = ServiceProbes.model_validate(
        {
            "paths": [
                "/health",
                "https://shop.example.com/health",
                {"url": "http://10.0.0.7/ready", "expect_status": 204},
            ]
        }
    )
    found = probe_targets(
        [service("web"), service("internal", uri=None)],
        target(probes={"web": settings, "internal": ServiceProbes(paths=["https://internal.example.com/h"])}),
    )
    assert [(t.service, t.url, t.path, t.expect_status) for t in found] == [
        ("web", "https://web-abc-uc.a.run.app/health", "/health", 200),
        ("web", "https://shop.example.com/health", "https://shop.example.com/health", 200),
        ("web", "http://10.0.0.7/ready", "http://10.0.0.7/ready", 204),
        # No Cloud Run URL (e.g. internal ingress), but every probe names its own URL: probed all the same.
        ("internal", "https://internal.example.com/h", "https://internal.example.com/h", 200),
    ]
