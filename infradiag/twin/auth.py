"""Credentials at the twin (scenario key `twin.requireCredentials`): Google's token endpoint, the IAM
Credentials API for impersonation, bearer-token checks on every API call, and ID-token checks on private
services.

- `POST /token`: the OAuth 2.0 token endpoint a service account key file names in `token_uri`. It takes the
  JWT-bearer grant google-auth sends (an RS256 assertion signed with the key's private key, `aud` = the
  token_uri, or Google's token endpoint as google-auth writes it) and answers `{"access_token",
  "expires_in", "token_type"}`, or, for an assertion with a `target_audience` claim, `{"id_token"}`;
  a bad grant answers 400 `invalid_grant`, as Google does.
- IAM Credentials v1 `projects/-/serviceAccounts/{email}:generateAccessToken` (`{"accessToken",
  "expireTime"}`) and `:generateIdToken` (`{"token"}`), for a caller holding a twin token, on the service
  accounts the scenario lists in `twin.serviceAccounts` (others: 403 PERMISSION_DENIED on
  iam.serviceAccounts.getAccessToken, as for a caller without roles/iam.serviceAccountTokenCreator).
- The metadata server of Cloud Run and Compute Engine (`GCE_METADATA_HOST` and `GCE_METADATA_IP` set to the
  twin's REST host:port): the ping at `/`, and under `/computeMetadata/v1/` (header `Metadata-Flavor:
  Google` required, else 403) the default service account's info, `token`, `identity?audience=` and
  `email`, and `project/project-id`; every answer carries `Metadata-Flavor: Google`.
- Access tokens are random strings the twin remembers with their expiry; ID tokens are RS256 JWTs signed by
  the twin's own key (`aud` = the audience asked for, `exp` one hour on).

The twin makes one RSA key pair for the service account of its key file (`key_file`) and one to sign ID
tokens. Tokens are never logged: the request log records paths and codes only.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from infradiag.twin.google_errors import API_SERVICES, GoogleError, error_info

TOKEN_PATH = "/token"
METADATA_PREFIX = "/computeMetadata/v1/"
IAM_PREFIX = "/v1/projects/-/serviceAccounts/"
TOKEN_LIFETIME_S = 3600
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"
_SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
# Google's texts for a call without, or with a bad, bearer token (the "See ..." link that ends them is left
# out).
MISSING_MESSAGE = (
    "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or "
    "other valid authentication credential."
)
INVALID_MESSAGE = (
    "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other "
    "valid authentication credential."
)


def _rsa_pem() -> tuple[str, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


@dataclass(frozen=True)
class BearerProblem:
    """Why a call's credentials were refused: the ErrorInfo reason and Google's message."""

    reason: str  # CREDENTIALS_MISSING | ACCESS_TOKEN_EXPIRED | ACCESS_TOKEN_TYPE_UNSUPPORTED
    message: str

    def error(self, api: str, method: str) -> GoogleError:
        """The UNAUTHENTICATED answer in Google's REST shapes (legacy `errors` entry included)."""
        service = API_SERVICES.get(api, ("googleapis.com", ""))[0]
        missing = self.reason == "CREDENTIALS_MISSING"
        return GoogleError(
            "UNAUTHENTICATED",
            self.message,
            [error_info(self.reason, "googleapis.com", {"service": service, "method": method})],
            legacy_reason="required" if missing else "authError",
            legacy_domain="global",
            front_end=True,
        )


class TwinAuth:
    """The twin's identity provider: the keys, the tokens issued, and every check."""

    def __init__(self, project: str, service_accounts: list[str], lifetime_s: int = TOKEN_LIFETIME_S) -> None:
        self.email = f"infradiag-twin@{project}.iam.gserviceaccount.com"
        self.project = project
        self.impersonable = set(service_accounts)
        self.lifetime_s = lifetime_s
        self._key_id = secrets.token_hex(20)
        self._private_pem, self.public_pem = _rsa_pem()
        self._signing_pem, self.signing_public_pem = _rsa_pem()
        self._tokens: dict[str, tuple[str, float]] = {}  # access token -> (principal, expiry, time.time())
        self._id_tokens: list[str] = []
        self._lock = threading.Lock()

    # -- the key file --------------------------------------------------------------------------------

    def key_file(self, token_uri: str) -> dict[str, str]:
        """A service account key file (as `gcloud iam service-accounts keys create` writes one) whose
        `token_uri` is this twin's token endpoint."""
        return {
            "type": "service_account",
            "project_id": self.project,
            "private_key_id": self._key_id,
            "private_key": self._private_pem,
            "client_email": self.email,
            "client_id": str(int(self._key_id[:12], 16)),
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": token_uri,
        }

    def write_key_file(self, path: Path, token_uri: str) -> Path:
        """Write the key file to `path`, readable by its owner only."""
        path.touch(mode=0o600, exist_ok=True)
        path.write_text(json.dumps(self.key_file(token_uri), indent=2))
        return path

    # -- tokens --------------------------------------------------------------------------------------

    def _issue(self, principal: str) -> str:
        token = "ya29.twin-" + secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[token] = (principal, time.time() + self.lifetime_s)
        return token

    def expire_tokens(self) -> None:
        """Every access token issued so far expires now (as an hour passing would do)."""
        with self._lock:
            self._tokens = {token: (who, 0.0) for token, (who, _) in self._tokens.items()}

    def issued(self) -> int:
        """How many access tokens the twin has issued."""
        with self._lock:
            return len(self._tokens)

    def secrets(self) -> list[str]:
        """Every access and ID token the twin has issued: what no output or log may ever hold."""
        with self._lock:
            return [*self._tokens, *self._id_tokens]

    def principal(self, authorization: str | None) -> str | BearerProblem:
        """Whose valid twin token `authorization` (an Authorization header value) carries, or why not."""
        if not authorization:
            return BearerProblem("CREDENTIALS_MISSING", MISSING_MESSAGE)
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        with self._lock:
            known = self._tokens.get(token) if scheme.lower() == "bearer" else None
        if known is None and scheme.lower() == "bearer" and token.count(".") == 2:
            return self._self_signed(token)
        if known is None:
            return BearerProblem("ACCESS_TOKEN_TYPE_UNSUPPORTED", INVALID_MESSAGE)
        if known[1] <= time.time():
            return BearerProblem("ACCESS_TOKEN_EXPIRED", INVALID_MESSAGE)
        return known[0]

    def _self_signed(self, token: str) -> str | BearerProblem:
        # Google also takes a JWT the service account signs itself with its key (what the google-cloud
        # clients send for a service account key: "service account authorization without OAuth").
        from google.auth import exceptions, jwt

        try:
            claims = jwt.decode(token, certs=self.public_pem, verify=True)  # type: ignore[no-untyped-call]
        except (exceptions.GoogleAuthError, ValueError) as error:
            expired = "expired" in str(error).lower()
            reason = "ACCESS_TOKEN_EXPIRED" if expired else "ACCESS_TOKEN_TYPE_UNSUPPORTED"
            return BearerProblem(reason, INVALID_MESSAGE)
        if claims.get("iss") != self.email or float(claims.get("exp", 0)) <= time.time():
            return BearerProblem("ACCESS_TOKEN_TYPE_UNSUPPORTED", INVALID_MESSAGE)
        return self.email

    def id_token(self, email: str, audience: str, lifetime_s: int = TOKEN_LIFETIME_S) -> str:
        """An RS256 ID token for `email`, audience `audience`, signed by the twin's key, valid
        `lifetime_s` from now (Google's: one hour)."""
        from google.auth import crypt, jwt

        now = int(time.time())
        payload = {
            "iss": "https://accounts.google.com",
            "aud": audience,
            "azp": email,
            "sub": str(abs(hash(email)) % 10**21),
            "email": email,
            "email_verified": True,
            "iat": now,
            "exp": now + lifetime_s,
        }
        signer = crypt.RSASigner.from_string(self._signing_pem, key_id="twin")  # type: ignore[no-untyped-call]
        token = str(jwt.encode(signer, payload).decode())  # type: ignore[no-untyped-call]
        with self._lock:
            self._id_tokens.append(token)
        return token

    def id_token_valid(self, authorization: str | None, audience: str) -> bool | None:
        """None without a bearer token; else whether it is an ID token the twin signed, for `audience`
        (a service URL, with or without a trailing slash), not expired."""
        from google.auth import exceptions, jwt

        if not authorization or not authorization.lower().startswith("bearer "):
            return None
        try:
            claims = jwt.decode(authorization[7:].strip(), certs=self.signing_public_pem, verify=True)  # type: ignore[no-untyped-call]
        except (exceptions.GoogleAuthError, ValueError):
            return False
        return str(claims.get("aud", "")).rstrip("/") == audience.rstrip("/")

    # -- endpoints -----------------------------------------------------------------------------------

    def token_endpoint(self, form: dict[str, str], token_uri: str) -> tuple[int, dict[str, Any]]:
        """The OAuth 2.0 token endpoint's answer to a JWT-bearer grant."""
        from google.auth import exceptions, jwt

        if form.get("grant_type") != JWT_BEARER:
            return 400, {"error": "unsupported_grant_type", "error_description": "Invalid grant_type."}
        try:
            # google-auth always names Google's endpoint as the audience, whatever token_uri says.
            audiences = [token_uri, GOOGLE_TOKEN_URI]
            claims = jwt.decode(form.get("assertion", ""), certs=self.public_pem, audience=audiences)  # type: ignore[no-untyped-call]
        except (exceptions.GoogleAuthError, ValueError):
            return 400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
        if claims.get("iss") != self.email:
            return 400, {"error": "invalid_grant", "error_description": "Invalid JWT: iss is not the key's."}
        if "target_audience" in claims:
            return 200, {"id_token": self.id_token(self.email, str(claims["target_audience"]))}
        return 200, {
            "access_token": self._issue(self.email),
            "expires_in": self.lifetime_s,
            "token_type": "Bearer",
        }

    def iam_credentials(self, path: str, authorization: str | None, body: Any) -> tuple[int, dict[str, Any]]:
        """IAM Credentials v1 generateAccessToken / generateIdToken for `path` (under IAM_PREFIX)."""
        name, _, verb = path.removeprefix(IAM_PREFIX).partition(":")
        caller = self.principal(authorization)
        method = f"google.iam.credentials.v1.IAMCredentials.{verb[:1].upper()}{verb[1:]}"
        if isinstance(caller, BearerProblem):
            return 401, caller.error("iamcredentials", method).body(legacy=False)
        if verb not in ("generateAccessToken", "generateIdToken"):
            return 404, GoogleError("NOT_FOUND", f"The twin serves no method at {path}.").body(legacy=False)
        resource = f"projects/-/serviceAccounts/{name}"
        if name not in self.impersonable:
            permission = "iam.serviceAccounts.getAccessToken"
            message = f"Permission '{permission}' denied on resource (or it may not exist)."
            details = [
                error_info(
                    "IAM_PERMISSION_DENIED",
                    "iam.googleapis.com",
                    {"permission": permission, "resource": resource},
                )
            ]
            return 403, GoogleError("PERMISSION_DENIED", message, details).body(legacy=False)
        request = body if isinstance(body, dict) else {}
        if verb == "generateIdToken":
            audience = request.get("audience")
            if not audience:
                return 400, GoogleError("INVALID_ARGUMENT", "audience is required").body(legacy=False)
            return 200, {"token": self.id_token(name, str(audience))}
        expiry = datetime.fromtimestamp(time.time() + self.lifetime_s, UTC)
        return 200, {"accessToken": self._issue(name), "expireTime": expiry.strftime("%Y-%m-%dT%H:%M:%SZ")}

    def metadata(self, path: str, query: dict[str, str], flavor: str | None) -> tuple[int, Any]:
        """The metadata server's answer to GET `path` ("/" is the ping): status and a JSON value or text."""
        if path == "/":
            return 200, "computeMetadata/\n"
        if flavor != "Google":
            return 403, "Missing required header: Metadata-Flavor\n"
        item = path.removeprefix(METADATA_PREFIX)
        if item == "project/project-id":
            return 200, self.project
        account, _, leaf = item.removeprefix("instance/service-accounts/").partition("/")
        if not item.startswith("instance/service-accounts/") or account not in ("default", self.email):
            return 404, "Not Found\n"
        if leaf == "" and query.get("recursive") == "true":
            return 200, {"aliases": ["default"], "email": self.email, "scopes": list(_SCOPES)}
        if leaf == "email":
            return 200, self.email
        if leaf == "token":
            return 200, {
                "access_token": self._issue(self.email),
                "expires_in": self.lifetime_s,
                "token_type": "Bearer",
            }
        if leaf == "identity" and query.get("audience"):
            return 200, self.id_token(self.email, query["audience"])
        if leaf == "identity":
            return 400, "non-empty audience parameter required\n"
        return 404, "Not Found\n"
