"""The identity a run reads the project as: one google-auth credentials object per run, shared by every
client.

Credentials come as gcloud users expect them: a key file named in the config (`credentials`), else
Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS, gcloud's ADC file, the metadata server on
Cloud Run), optionally impersonating a service account (`--impersonate-service-account`, config key
`impersonate_service_account`) through the IAM Credentials API. A twin that does not require credentials is
read anonymously.

`Authenticator.resolve` fetches the first token before any read, bounded in time, so that missing or refused
credentials become ONE Unknown that names the fix instead of an error per read (or a traceback). A token is
never put into any text: unknowns carry google-auth's message with anything token-shaped redacted.
"""

from __future__ import annotations

import concurrent.futures
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infradiag.evidence import Unknown

SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)
# How long the first token may take: a missing metadata server or an unreachable token endpoint must not
# hold a run for google-auth's own defaults (120 s per request, retried).
AUTH_TIMEOUT_S = 8.0
SOURCE = "auth"
CONSEQUENCE = "no API was read: every resource, metric and policy of the project is unchecked"
ADC_FIX = (
    "no usable credentials: run `gcloud auth application-default login`, or set "
    "GOOGLE_APPLICATION_CREDENTIALS to a service account key file (or `credentials` in the environment's "
    "config), or run where the metadata server is (Cloud Run)"
)
_ADC_HOW = ADC_FIX.removeprefix("no usable credentials: ")
# Strings that look like a bearer token, an assertion or a JWT: never shown, even inside an error text.
_SECRET_SHAPES = re.compile(r"(ya29\.[\w.-]+|eyJ[\w-]+\.[\w-]+\.[\w-]*|[A-Za-z0-9_-]{40,})")


def redact(text: str) -> str:
    """`text` with every token-shaped string replaced by [redacted]."""
    return _SECRET_SHAPES.sub("[redacted]", text)


@dataclass(frozen=True)
class Resolved:
    """Credentials ready for use: the google-auth object (None: anonymous) and who it is, in words."""

    credentials: Any  # what every client is given: one object, so one token for all of them
    identity: str
    request: Any  # the google.auth.transport.requests.Request every refresh goes through
    inner: Any = None  # the google-auth credentials underneath `credentials`
    source: Any = None  # when impersonating: the credentials that call the IAM Credentials API


class AuthFailed(Exception):
    """The run has no usable credentials; carries the one Unknown to report."""

    def __init__(self, unknown: Unknown) -> None:
        super().__init__(unknown.fix)
        self.unknown = unknown


class Authenticator:
    """How a run gets its credentials, and, once resolved, the credentials themselves (resolved at most
    once: a gate's repeated triages share one token)."""

    def __init__(
        self,
        key_file: Path | None = None,
        impersonate: str | None = None,
        anonymous: bool = False,
        iam_endpoint: str | None = None,
    ) -> None:
        """`iam_endpoint`: the base URL of the IAM Credentials API (a twin's); None: Google's."""
        self.key_file = key_file
        self.impersonate = impersonate
        self.anonymous = anonymous
        self.iam_endpoint = iam_endpoint
        self._resolved: Resolved | None = None
        self._lock = threading.Lock()

    def resolve(self, timeout_s: float = AUTH_TIMEOUT_S) -> Resolved:
        """The run's credentials with a fresh token, fetched within `timeout_s`; AuthFailed (with the fix)
        when there are none, they are refused, or no token comes in time. Later calls return the same."""
        with self._lock:
            if self._resolved is None:
                self._resolved = self._resolve_bounded(max(timeout_s, 0.1))
            return self._resolved

    def _resolve_bounded(self, timeout_s: float) -> Resolved:
        outcome: concurrent.futures.Future[Resolved] = concurrent.futures.Future()

        def run() -> None:
            try:
                outcome.set_result(self._resolve(timeout_s))
            except BaseException as exc:  # handed to the waiting caller, which turns it into an Unknown
                outcome.set_exception(exc)

        # A daemon thread: a metadata server probe that hangs can never hold the process open.
        threading.Thread(target=run, name="auth", daemon=True).start()
        try:
            return outcome.result(timeout=timeout_s)
        except concurrent.futures.TimeoutError:
            raise AuthFailed(
                self._unknown(
                    "DEADLINE_EXCEEDED",
                    f"no token within {timeout_s:.0f} s: check that the token endpoint (or the metadata "
                    "server) is reachable from this machine; " + _ADC_HOW,
                    "",
                )
            ) from None
        except AuthFailed:
            raise
        except Exception as exc:
            raise AuthFailed(self._failure(exc)) from None

    def _resolve(self, timeout_s: float) -> Resolved:
        import google.auth
        from google.auth import impersonated_credentials

        request = bounded_request(timeout_s)
        if self.anonymous:
            from google.auth.credentials import AnonymousCredentials

            return Resolved(AnonymousCredentials(), "anonymous (twin)", request)  # type: ignore[no-untyped-call]
        if self.key_file is not None:
            credentials, _ = google.auth.load_credentials_from_file(str(self.key_file), scopes=SCOPES)  # type: ignore[no-untyped-call]
        else:
            credentials, _ = google.auth.default(scopes=SCOPES)
        if self.impersonate:
            source = credentials
            override = None
            if self.iam_endpoint is not None:
                override = f"{self._iam_base(self.impersonate)}:generateAccessToken"
            credentials = impersonated_credentials.Credentials(  # type: ignore[no-untyped-call]
                source_credentials=source,
                target_principal=self.impersonate,
                target_scopes=list(SCOPES),
                iam_endpoint_override=override,
            )
            source.refresh(request)
            source_identity = identity_of(source)
            try:
                credentials.refresh(request)  # type: ignore[no-untyped-call]
            except google.auth.exceptions.RefreshError as exc:
                raise AuthFailed(
                    self._unknown(
                        "PERMISSION_DENIED",
                        f"{source_identity} may not impersonate {self.impersonate}: grant it "
                        "roles/iam.serviceAccountTokenCreator on that service account: gcloud iam "
                        f"service-accounts add-iam-policy-binding {self.impersonate} "
                        f"--member={member_of(source)} --role=roles/iam.serviceAccountTokenCreator "
                        "(and enable iamcredentials.googleapis.com on its project)",
                        str(exc),
                    )
                ) from None
            who = f"{self.impersonate} (impersonated by {source_identity})"
            return Resolved(shared(credentials), who, request, credentials, source)
        credentials.refresh(request)
        return Resolved(shared(credentials), identity_of(credentials), request, credentials)

    def id_token(self, audience: str, timeout_s: float) -> str:
        """A Google-signed ID token for `audience` (a private Cloud Run service's URL), fetched within
        `timeout_s`: from the configured key file, through the IAM Credentials API for an impersonated
        service account, else as google-auth finds one (GOOGLE_APPLICATION_CREDENTIALS, the metadata server).
        Raises google-auth's errors; never logs the token."""
        import google.oauth2.id_token
        from google.oauth2 import service_account

        request = bounded_request(timeout_s)
        if self.impersonate:
            return self._impersonated_id_token(audience, timeout_s)
        if self.key_file is not None:
            credentials = service_account.IDTokenCredentials.from_service_account_file(  # type: ignore[no-untyped-call]
                str(self.key_file), target_audience=audience
            )
            credentials.refresh(request)
            return str(credentials.token)
        token: str = google.oauth2.id_token.fetch_id_token(request, audience)  # type: ignore[no-untyped-call]
        return token

    def _impersonated_id_token(self, audience: str, timeout_s: float) -> str:
        # IAM Credentials generateIdToken, called by the impersonating identity (google-auth's own
        # IDTokenCredentials always calls googleapis.com, which a twin cannot answer for).
        import json

        import google.auth.transport.requests
        from google.auth import exceptions

        source = self.resolve(timeout_s).source
        url = f"{self._iam_base(str(self.impersonate))}:generateIdToken"
        session = google.auth.transport.requests.AuthorizedSession(source)  # type: ignore[no-untyped-call]
        try:
            response = session.post(
                url, data=json.dumps({"audience": audience, "includeEmail": True}), timeout=timeout_s
            )
        finally:
            session.close()  # type: ignore[no-untyped-call]
        if response.status_code != 200:
            raise exceptions.RefreshError(  # type: ignore[no-untyped-call]
                f"generateIdToken for {self.impersonate} answered {response.status_code}: "
                f"{redact(response.text[:300])}"
            )
        return str(response.json()["token"])

    def _iam_base(self, email: str) -> str:
        base = self.iam_endpoint or "https://iamcredentials.googleapis.com"
        return f"{base}/v1/projects/-/serviceAccounts/{email}"

    def _failure(self, exc: Exception) -> Unknown:
        from google.auth import exceptions

        if isinstance(exc, exceptions.DefaultCredentialsError):
            # Its first sentence says what is missing; the rest points at Google's set-up page, which the
            # fix already replaces.
            return self._unknown("UNAUTHENTICATED", ADC_FIX, str(exc).split(". ", 1)[0].rstrip(".") + ".")
        if isinstance(exc, exceptions.TransportError):
            return self._unknown(
                "UNAVAILABLE",
                "cannot reach the token endpoint (or the metadata server): check the network path to it; "
                + _ADC_HOW,
                str(exc),
            )
        if isinstance(exc, exceptions.RefreshError):
            which = f"the key file {self.key_file}" if self.key_file else "Application Default Credentials"
            return self._unknown(
                "UNAUTHENTICATED",
                f"the token endpoint refused {which} (revoked, expired or deleted key): run "
                "`gcloud auth application-default login` again, or use a current service account key",
                str(exc),
            )
        if isinstance(exc, (OSError, ValueError)):
            return self._unknown(
                "UNAUTHENTICATED",
                f"unreadable credentials file: {type(exc).__name__}; " + _ADC_HOW,
                str(exc),
            )
        return self._unknown("UNAUTHENTICATED", ADC_FIX, f"{type(exc).__name__}: {exc}")

    def _unknown(self, reason: str, fix: str, detail: str) -> Unknown:
        return Unknown(source=SOURCE, reason=reason, fix=fix, consequence=CONSEQUENCE, detail=redact(detail))


def bounded_request(timeout_s: float) -> Any:
    """A google-auth transport Request whose every call waits at most `timeout_s` (google-auth's own default
    is 120 s per request; a run has less)."""
    import google.auth.transport.requests

    base = google.auth.transport.requests.Request()

    def request(*args: Any, **kwargs: Any) -> Any:
        kwargs["timeout"] = min(float(kwargs.get("timeout") or timeout_s), timeout_s)
        return base(*args, **kwargs)

    return request


def member_of(credentials: Any) -> str:
    """The IAM member that `credentials` are, for a policy binding: serviceAccount:EMAIL or user:ACCOUNT
    (user:YOUR_ACCOUNT when google-auth does not know the account)."""
    email = getattr(credentials, "service_account_email", None)
    if isinstance(email, str) and "@" in email:
        return f"serviceAccount:{email}"
    account = getattr(credentials, "account", None)
    return f"user:{account}" if isinstance(account, str) and account else "user:YOUR_ACCOUNT"


def identity_of(credentials: Any) -> str:
    """Who `credentials` are, in words: a service account's email, or the kind of credentials."""
    email = getattr(credentials, "service_account_email", None)
    if isinstance(email, str) and "@" in email:
        return email
    account = getattr(credentials, "account", None)
    if isinstance(account, str) and account:
        return f"{account} (user credentials, ADC)"
    return "user credentials (ADC)"


def shared(inner: Any) -> Any:
    """`inner` (refreshed) behind one credentials object that every client is given as is.

    The google-cloud clients make their own copy of service account credentials to sign JWTs themselves
    (`with_always_use_jwt_access`); behind this object they cannot, so every REST client and the gRPC channel
    send the one access token fetched for the run, and refresh it together when it expires or is refused.
    """
    from google.auth import credentials as auth_credentials

    class Shared(auth_credentials.Credentials):
        def __init__(self) -> None:
            super().__init__()  # type: ignore[no-untyped-call]
            # gcloud's ADC file may name the project that quota and billing go to (x-goog-user-project).
            self._quota_project_id = getattr(inner, "quota_project_id", None)
            self._lock = threading.Lock()
            self._take()

        def _take(self) -> None:
            self.token = inner.token
            self.expiry = inner.expiry

        def refresh(self, request: Any) -> None:
            # Serialised: threads that find the token expired at once refresh it one after the other.
            with self._lock:
                inner.refresh(request)
                self._take()

    return Shared()
