"""What a capture takes out of a scenario before it is written (infradiag/collect/capture_redact.py)."""

from __future__ import annotations

from typing import Any

from infradiag.collect.capture_redact import redacted, redacted_notes

PRIVATE_KEY = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n"


def _scenario() -> dict[str, Any]:
    return {
        "run": {
            "services": [
                {
                    "name": "projects/p/locations/r/services/api",
                    "description": "owner alice@example.com; malice@example.com is another",
                    "template": {
                        "serviceAccount": "api@p.iam.gserviceaccount.com",
                        "containers": [
                            {
                                "env": [
                                    {"name": "MODE", "value": "production"},
                                    {
                                        "name": "DB_PASSWORD",
                                        "valueSource": {"secretKeyRef": {"secret": "db", "version": "7"}},
                                    },
                                ]
                            }
                        ],
                    },
                }
            ]
        },
        "iam": {
            "projects/p/locations/r/services/api": {
                "bindings": [
                    {
                        "role": "roles/run.invoker",
                        "members": [
                            "user:alice@example.com",
                            "serviceAccount:api@p.iam.gserviceaccount.com",
                            "allUsers",
                        ],
                    }
                ]
            }
        },
        "endpoints": {"api": {"/health": {"json": {"clientSecret": "s3cr3t", "pem": PRIVATE_KEY}}}},
    }


def test_env_values_go_and_secret_references_stay() -> None:
    (service,) = redacted(_scenario())["run"]["services"]
    assert service["template"]["containers"][0]["env"] == [
        {"name": "MODE", "value": "[redacted]"},
        {"name": "DB_PASSWORD", "valueSource": {"secretKeyRef": {"secret": "db", "version": "7"}}},
    ]


def test_credential_fields_and_key_blocks_are_masked_wherever_they_are() -> None:
    body = redacted(_scenario())["endpoints"]["api"]["/health"]["json"]
    assert body == {"clientSecret": "[redacted]", "pem": "[redacted]\n"}


def test_emails_stay_unless_identities_are_redacted() -> None:
    assert redacted(_scenario())["iam"] == _scenario()["iam"]


def test_each_member_email_has_one_stand_in_everywhere() -> None:
    clean = redacted(_scenario(), identities=True)
    members = clean["iam"]["projects/p/locations/r/services/api"]["bindings"][0]["members"]
    assert members == [
        "user:user-1@redacted.invalid",
        "serviceAccount:serviceaccount-1@redacted.invalid",
        "allUsers",
    ]
    (service,) = clean["run"]["services"]
    assert service["template"]["serviceAccount"] == "serviceaccount-1@redacted.invalid"
    # A longer address that merely ends like a member's is another person's, left alone.
    assert service["description"] == "owner user-1@redacted.invalid; malice@example.com is another"
    notes = redacted_notes(["GetIamPolicy refused for alice@example.com"], _scenario(), identities=True)
    assert notes == ["GetIamPolicy refused for user-1@redacted.invalid"]
