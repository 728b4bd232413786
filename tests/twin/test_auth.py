"""A twin that requires credentials, driven by the real google-auth flows and the official clients over
loopback: Google's token endpoint, IAM Credentials, bearer checks in Google's shapes, ID tokens."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
import requests
from google.api_core import exceptions as gexc
from google.api_core.client_options import ClientOptions
from google.auth import exceptions as auth_exceptions
from google.auth import impersonated_credentials
from google.auth.credentials import AnonymousCredentials
from google.auth.transport.requests import Request
from google.cloud import monitoring_v3, run_v2
from google.cloud.monitoring_v3.services.alert_policy_service.transports import (
    AlertPolicyServiceGrpcTransport,
)
from google.oauth2 import service_account

from infradiag.identity import shared
from infradiag.twin.scenario import Scenario
from infradiag.twin.server import Twin
from tests.authtwin import PRIVATE, PROJECT, PUBLIC, READER, REGION, scenario_data

PARENT = f"projects/{PROJECT}/locations/{REGION}"
SCOPES = ["https://www.googleapis.com/auth/cloud-platform"]


@pytest.fixture(scope="module")
def twin() -> Iterator[Twin]:
    with Twin(Scenario.model_validate(scenario_data())) as running:
        yield running


@pytest.fixture(scope="module")
def key(twin: Twin, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return twin.write_key_file(tmp_path_factory.mktemp("key") / "key.json")


def _services(twin: Twin, credentials: object) -> list[str]:
    assert twin.addresses is not None
    client = run_v2.ServicesClient(
        transport="rest",
        credentials=credentials,
        client_options=ClientOptions(api_endpoint=twin.addresses.rest),
    )
    return sorted(s.name.rsplit("/", 1)[-1] for s in client.list_services(parent=PARENT))


def test_a_call_without_a_token_is_unauthenticated_in_each_apis_shape(twin: Twin) -> None:
    assert twin.addresses is not None
    # Anonymous credentials cannot be refreshed: the client's session gives up at the first 401.
    with pytest.raises(auth_exceptions.InvalidOperation):
        _services(twin, AnonymousCredentials())  # type: ignore[no-untyped-call]
    run = requests.get(f"{twin.addresses.rest}/v2/{PARENT}/services", timeout=10)
    assert run.status_code == 401
    assert run.json()["error"]["status"] == "UNAUTHENTICATED"
    assert run.json()["error"]["details"][0]["reason"] == "CREDENTIALS_MISSING"
    assert "errors" not in run.json()["error"], "Cloud Run answers in the AIP-193 shape"
    compute = requests.get(
        f"{twin.addresses.rest}/compute/v1/projects/{PROJECT}/global/firewalls", timeout=10
    )
    assert compute.status_code == 401
    assert compute.headers["WWW-Authenticate"].startswith("Bearer ")
    error = compute.json()["error"]
    assert (error["code"], error["status"], error["errors"][0]["reason"]) == (
        401,
        "UNAUTHENTICATED",
        "required",
    )
    bad = requests.get(
        f"{twin.addresses.rest}/v2/{PARENT}/services", headers={"Authorization": "Bearer nope"}, timeout=10
    )
    assert bad.status_code == 401
    assert bad.json()["error"]["details"][0]["reason"] == "ACCESS_TOKEN_TYPE_UNSUPPORTED"


def test_monitoring_over_grpc_without_a_token_is_unauthenticated(twin: Twin) -> None:
    assert twin.addresses is not None
    with grpc.insecure_channel(twin.addresses.grpc) as channel:
        client = monitoring_v3.AlertPolicyServiceClient(
            transport=AlertPolicyServiceGrpcTransport(channel=channel)
        )
        with pytest.raises(gexc.Unauthenticated) as refused:
            list(client.list_alert_policies(name=f"projects/{PROJECT}"))
    assert refused.value.reason == "CREDENTIALS_MISSING"


def test_a_key_files_token_from_the_twins_token_endpoint_opens_every_api(twin: Twin, key: Path) -> None:
    credentials = service_account.Credentials.from_service_account_file(str(key), scopes=SCOPES)
    credentials.refresh(Request())
    assert credentials.token and credentials.expiry is not None
    assert _services(twin, credentials) == [PRIVATE, PUBLIC]


def test_a_key_the_twin_did_not_make_is_refused_at_the_token_endpoint(
    twin: Twin, key: Path, tmp_path: Path
) -> None:
    with Twin(Scenario.model_validate(scenario_data())) as other:
        foreign = other.write_key_file(tmp_path / "foreign.json")
    info = json.loads(foreign.read_text())
    info.update(client_email=json.loads(key.read_text())["client_email"])
    info["token_uri"] = json.loads(key.read_text())["token_uri"]
    credentials = service_account.Credentials.from_service_account_info(info, scopes=SCOPES)
    with pytest.raises(auth_exceptions.RefreshError, match="invalid_grant"):
        credentials.refresh(Request())


def test_an_expired_token_is_refused_and_refreshed_by_the_session(twin: Twin, key: Path) -> None:
    credentials = service_account.Credentials.from_service_account_file(str(key), scopes=SCOPES)
    credentials.refresh(Request())
    first = credentials.token
    twin.auth.expire_tokens()  # type: ignore[union-attr]
    refused = requests.get(
        f"{twin.addresses.rest}/v2/{PARENT}/services",  # type: ignore[union-attr]
        headers={"Authorization": f"Bearer {first}"},
        timeout=10,
    )
    assert refused.json()["error"]["details"][0]["reason"] == "ACCESS_TOKEN_EXPIRED"
    # The client's AuthorizedSession refreshes the run's one credentials object on 401, and tries again.
    run_credentials = shared(credentials)
    issued = twin.auth.issued()  # type: ignore[union-attr]
    assert _services(twin, run_credentials) == [PRIVATE, PUBLIC]
    assert run_credentials.token != first
    assert twin.auth.issued() == issued + 1  # type: ignore[union-attr]


def _impersonated(twin: Twin, key: Path, email: str) -> impersonated_credentials.Credentials:
    source = service_account.Credentials.from_service_account_file(str(key), scopes=SCOPES)
    return impersonated_credentials.Credentials(
        source_credentials=source,
        target_principal=email,
        target_scopes=SCOPES,
        iam_endpoint_override=(
            f"{twin.addresses.rest}/v1/projects/-/serviceAccounts/{email}:generateAccessToken"  # type: ignore[union-attr]
        ),
    )


def test_impersonation_through_iam_credentials(twin: Twin, key: Path) -> None:
    credentials = _impersonated(twin, key, READER)
    assert _services(twin, credentials) == [PRIVATE, PUBLIC]
    calls = [c for c in twin.log.calls() if c.api == "iamcredentials"]
    assert [(c.method, c.code) for c in calls][-1] == ("generateAccessToken", "OK")


def test_impersonating_an_account_not_granted_is_permission_denied(twin: Twin, key: Path) -> None:
    credentials = _impersonated(twin, key, f"other@{PROJECT}.iam.gserviceaccount.com")
    with pytest.raises(auth_exceptions.RefreshError, match=r"iam\.serviceAccounts\.getAccessToken"):
        credentials.refresh(Request())


def test_private_endpoints_take_only_an_id_token_for_their_url(twin: Twin, key: Path) -> None:
    assert twin.addresses is not None and twin.auth is not None
    private, public = twin.addresses.services[PRIVATE], twin.addresses.services[PUBLIC]
    assert requests.get(public + "/health", timeout=10).status_code == 200
    assert requests.get(private + "/health", timeout=10).status_code == 403

    def status(token: str) -> int:
        return requests.get(
            private + "/health", headers={"Authorization": f"Bearer {token}"}, timeout=10
        ).status_code

    credentials = service_account.IDTokenCredentials.from_service_account_file(
        str(key), target_audience=private
    )
    credentials.refresh(Request())
    assert status(credentials.token) == 200
    assert status(twin.auth.id_token(READER, public)) == 401, "another service's audience"
    assert status(twin.auth.id_token(READER, private, lifetime_s=-60)) == 401, "expired"
    unsigned = credentials.token.rsplit(".", 1)[0] + ".c2lnbmF0dXJl"
    assert status(unsigned) == 401, "a signature the twin did not make"


def test_generate_id_token_for_an_impersonated_account(twin: Twin, key: Path) -> None:
    assert twin.addresses is not None
    source = service_account.Credentials.from_service_account_file(str(key), scopes=SCOPES)
    source.refresh(Request())
    private = twin.addresses.services[PRIVATE]
    answer = requests.post(
        f"{twin.addresses.rest}/v1/projects/-/serviceAccounts/{READER}:generateIdToken",
        headers={"Authorization": f"Bearer {source.token}"},
        json={"audience": private, "includeEmail": True},
        timeout=10,
    )
    assert answer.status_code == 200
    token = answer.json()["token"]
    assert (
        requests.get(private + "/", headers={"Authorization": f"Bearer {token}"}, timeout=10).status_code
        != 403
    )
