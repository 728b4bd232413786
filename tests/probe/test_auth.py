"""Credentials reach the service they are meant for, and no token reaches a result or a log record.

The protected endpoint is a small aiohttp server of the test's own (a scenario cannot require a header): it
answers 401 without the expected bearer token, and echoes the Authorization header it got in its body, the
worst case a probe must still keep secret.
"""

from __future__ import annotations

import base64
import json
import logging
import time
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from infradiag import runtime
from infradiag.errors import UsageError
from infradiag.evidence.model import ProbeResult, ProbeTarget
from infradiag.probe import probe_all
from tests.probe.servers import own_server

TOKEN = "opaque-probe-token-7f3a9c"


def protected(expected: str, seen: list[str]) -> Any:
    """A handler that wants `Authorization: Bearer <expected>` and echoes what it got."""

    async def handle(request: web.BaseRequest) -> web.Response:
        got = request.headers.get("Authorization", "")
        seen.append(got)
        status = 200 if got == f"Bearer {expected}" else 401
        return web.json_response({"you_sent": got, "raw": got.removeprefix("Bearer ")}, status=status)

    return handle


def probe_protected(expected: str, *targets: dict[str, Any]) -> tuple[list[ProbeResult], list[str]]:
    seen: list[str] = []

    async def main() -> list[ProbeResult]:
        async with own_server(protected(expected, seen)) as base:
            probed = [
                ProbeTarget.model_validate({"service": "private", **t, "url": base + "/health"})
                for t in targets
            ]
            return await probe_all(probed, timeout_s=10)

    return runtime.run(main()), seen


def assert_nowhere(secret: str, results: list[ProbeResult], caplog: pytest.LogCaptureFixture) -> None:
    for result in results:
        assert secret not in result.model_dump_json()
    for record in caplog.records:
        assert secret not in record.getMessage()
        assert secret not in str(record.args)


def test_an_env_token_reaches_the_service_and_nothing_else(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("PROBE_TOKEN", TOKEN)
    [with_token, without], seen = probe_protected(
        TOKEN, {"path": "/health", "auth": "env:PROBE_TOKEN"}, {"path": "/health"}
    )
    assert seen == [f"Bearer {TOKEN}", ""]
    assert (with_token.outcome, with_token.status) == ("ok", 200)
    assert (without.outcome, without.status) == ("http_4xx", 401)
    # The server echoed the token; the probe kept the evidence and dropped the secret.
    assert with_token.body_json == {"you_sent": "Bearer [redacted]", "raw": "[redacted]"}
    assert with_token.body_excerpt is not None and "[redacted]" in with_token.body_excerpt
    assert caplog.records, "the probe run logged nothing: the log assertion would prove nothing"
    assert_nowhere(TOKEN, [with_token, without], caplog)


def test_a_bearer_prefix_in_the_variable_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROBE_TOKEN", f"Bearer {TOKEN}")
    [result], seen = probe_protected(TOKEN, {"path": "/health", "auth": "env:PROBE_TOKEN"})
    assert (result.outcome, seen) == ("ok", [f"Bearer {TOKEN}"])


@pytest.mark.parametrize("value", [None, "", "two words"])
def test_a_missing_or_malformed_variable_stops_the_run_before_any_probe(
    monkeypatch: pytest.MonkeyPatch, value: str | None
) -> None:
    if value is None:
        monkeypatch.delenv("PROBE_TOKEN", raising=False)
    else:
        monkeypatch.setenv("PROBE_TOKEN", value)
    with pytest.raises(UsageError) as caught:
        probe_protected(TOKEN, {"path": "/health", "auth": "env:PROBE_TOKEN"})
    assert caught.value.where == 'auth = "env:PROBE_TOKEN"'
    assert "PROBE_TOKEN" in caught.value.problem
    if value:
        assert value not in caught.value.one_line()


def _jwt(claims: dict[str, Any]) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


def _claims(assertion: str) -> dict[str, Any]:
    payload = assertion.split(".")[1]
    claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return claims


def _service_account_key(path: Path, token_uri: str) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    info = {
        "type": "service_account",
        "project_id": "acme-staging",
        "private_key_id": "k1",
        "private_key": pem,
        "client_email": "prober@acme-staging.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": token_uri,
    }
    path.write_text(json.dumps(info))


def test_an_id_token_is_minted_for_the_service_url_and_kept_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """google-auth mints the ID token from a service account key, at the key's token_uri: here a local
    endpoint playing Google's OAuth server, so the real google-auth code path runs end to end."""
    caplog.set_level(logging.DEBUG)
    id_token = _jwt({"aud": "the service", "exp": int(time.time()) + 3600, "iat": int(time.time())})
    audiences: list[str] = []

    async def token_endpoint(request: web.BaseRequest) -> web.Response:
        form = await request.post()
        audiences.append(_claims(str(form["assertion"]))["target_audience"])
        return web.json_response({"id_token": id_token})

    seen: list[str] = []

    async def main() -> list[ProbeResult]:
        async with own_server(token_endpoint) as oauth, own_server(protected(id_token, seen)) as base:
            key = tmp_path / "key.json"
            _service_account_key(key, oauth + "/token")
            monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key))
            targets = [
                ProbeTarget(service="private", url=base + p, path=p, auth="id_token", audience=base)
                for p in ("/health", "/ready")
            ]
            return await probe_all(targets, timeout_s=10)

    results = runtime.run(main())
    assert [r.outcome for r in results] == ["ok", "ok"]
    assert seen == [f"Bearer {id_token}"] * 2
    assert len(audiences) == 1, "one token per audience and run"
    assert audiences[0].startswith("http://127.0.0.1:")
    assert_nowhere(id_token, results, caplog)
    assert_nowhere(id_token.split(".")[1], results, caplog)


def test_without_an_id_token_the_probe_goes_unauthenticated_and_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = tmp_path / "key.json"
    # Nothing listens on port 9 (discard) of loopback: the token request is refused at once.
    _service_account_key(key, "http://127.0.0.1:9/token")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key))
    [result], seen = probe_protected(TOKEN, {"path": "/health", "auth": "id_token"})
    assert seen == [""]
    assert (result.outcome, result.status) == ("http_4xx", 401)
    assert "(sent without credentials: no ID token: " in result.detail
    assert "roles/run.invoker" in result.detail
