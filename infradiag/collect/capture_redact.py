"""What must not leave the project, taken out of a captured scenario.

- Cloud Run env values: every `env[].value` of a service's, revision's or job's containers; an env var
  that names a Secret Manager secret (`valueSource.secretKeyRef`) keeps that reference, which is a name.
- Anything that looks like a credential, in every string (resources, probe bodies, messages): what probes
  already redact (infradiag/probe/text.py: bearer tokens, JWTs, credential fields), plus Google API keys,
  OAuth access tokens, private key blocks and the values of fields named like a credential.
- With `identities`, the emails of IAM policy members, each replaced by one made-up address wherever it
  appears (`user:alice@example.com` -> `user:user-1@redacted.invalid`), so that the replay still joins.
"""

from __future__ import annotations

import re
from typing import Any

from infradiag.probe.text import REDACTED, redact

_KEYS = (
    re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"),  # Google API key
    re.compile(r"\bya29\.[0-9A-Za-z_.-]+"),  # Google OAuth 2.0 access token
    re.compile(r"\b1//[0-9A-Za-z_-]{20,}"),  # Google OAuth 2.0 refresh token
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|\Z)", re.S),
    re.compile(r"\b(?:gh[pousr]_[0-9A-Za-z]{20,}|xox[abprs]-[0-9A-Za-z-]{10,}|AKIA[0-9A-Z]{16})\b"),
)
# A field whose value is a credential, whatever it looks like: `password`, `apiKey`, `client_secret`...
# (`secret` alone is not one: it is the secret's name in a secretKeyRef).
_CREDENTIAL_FIELD = re.compile(
    r"(?i)^.*(?:password|passwd|api[_-]?key|private[_-]?key|client[_-]?secret)$"
    r"|^(?:.*[_-])?(?:access|id|refresh|auth|bearer)?[_-]?token$"
)
_MEMBER = re.compile(
    r"^(?P<kind>user|serviceAccount|group|deleted:user|deleted:serviceAccount):(?P<email>[^?\s]+)"
)


def redact_text(text: str) -> str:
    """`text` with every credential-looking part masked."""
    for pattern in _KEYS:
        text = pattern.sub(REDACTED, text)
    return redact(text)


def redacted(scenario: dict[str, Any], identities: bool = False) -> dict[str, Any]:
    """A copy of `scenario` holding no env value, token or key (and no member email with `identities`)."""
    emails = _member_emails(scenario.get("iam") or {}) if identities else {}
    found: dict[str, Any] = _walk(scenario, emails, None)
    return found


def redacted_notes(notes: list[str], scenario: dict[str, Any], identities: bool = False) -> list[str]:
    """`notes` (what a capture could not record, quoting error messages) redacted as `scenario` is."""
    emails = _member_emails(scenario.get("iam") or {}) if identities else {}
    return [_walk(note, emails, None) for note in notes]


def _member_emails(policies: dict[str, Any]) -> dict[str, str]:
    """Each member email of the policies -> its stand-in, numbered per member kind in order of appearance."""
    stand_ins: dict[str, str] = {}
    counts: dict[str, int] = {}
    for policy in policies.values():
        for binding in policy.get("bindings") or []:
            for member in binding.get("members") or []:
                match = _MEMBER.match(member)
                if match is None or match["email"] in stand_ins:
                    continue
                kind = match["kind"].rsplit(":", 1)[-1].lower()
                counts[kind] = counts.get(kind, 0) + 1
                stand_ins[match["email"]] = f"{kind}-{counts[kind]}@redacted.invalid"
    return stand_ins


def _walk(value: Any, emails: dict[str, str], key: str | None) -> Any:
    if isinstance(value, dict):
        return {k: _walk(v, emails, k) for k, v in value.items()}
    if isinstance(value, list):
        if key == "env":
            return [_env_var(v, emails) if isinstance(v, dict) else v for v in value]
        return [_walk(v, emails, key) for v in value]
    if isinstance(value, str):
        if key is not None and _CREDENTIAL_FIELD.match(key):
            return REDACTED
        if emails:
            value = _emails_in(emails).sub(lambda m: emails[m[0]], value)
        return redact_text(value)
    return value


def _emails_in(emails: dict[str, str]) -> re.Pattern[str]:
    """Any of `emails`, whole (not the tail of a longer address)."""
    alternatives = "|".join(re.escape(e) for e in sorted(emails, key=len, reverse=True))
    return re.compile(rf"(?<![\w.+-])(?:{alternatives})(?![\w.-])")


def _env_var(var: dict[str, Any], emails: dict[str, str]) -> dict[str, Any]:
    """A container env var without its value; a secret reference is kept."""
    kept = {k: _walk(v, emails, k) for k, v in var.items() if k != "value"}
    if "value" in var:
        kept["value"] = REDACTED
    return kept
