"""The Terraform checker against the committed table of the google provider's documented arguments."""

from __future__ import annotations

import pytest

from tests.fixes.checker_table import assert_named
from tests.fixes.terraform import load_table, problems

FIREWALL = """resource "google_compute_firewall" "allow_health_checks" {
  name          = "legacy-api-allow-health-checks"
  network       = "staging-vpc"
  direction     = "INGRESS"
  priority      = 1000
  source_ranges = ["35.191.0.0/16", "130.211.0.0/22"]
  target_tags   = ["legacy-api"]
  allow {
    protocol = "tcp"
    ports    = ["9000"]
  }
}
"""
MEMORY = """resource "google_cloud_run_v2_service" "worker" {
  name     = "worker"
  location = "us-central1"
  template {
    containers {
      resources {
        limits = { memory = "1Gi" }
      }
    }
  }
}
"""


def check(text: str) -> list[str]:
    return problems(text, load_table())


def test_every_resource_of_the_table_cites_its_page() -> None:
    for kind, spec in load_table()["resources"].items():
        assert spec["source"].startswith("https://registry.terraform.io/providers/hashicorp/google/"), kind
        assert "role" in spec["arguments"] or len(spec["arguments"]) >= 5, kind


@pytest.mark.parametrize(
    "text", [FIREWALL, MEMORY, FIREWALL + MEMORY, FIREWALL.replace("= 1000", "= 1000 # was not set")]
)
def test_a_block_of_documented_arguments_passes(text: str) -> None:
    assert check(text) == []


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (FIREWALL.replace("priority ", "prioirty "), "no argument or block 'prioirty'"),
        (FIREWALL.replace("ports ", "port "), "allow_health_checks.allow has no argument or block 'port'"),
        (
            MEMORY.replace("limits", "limit"),
            "worker.template.containers.resources has no argument or block 'limit'",
        ),
        (FIREWALL.replace("google_compute_firewall", "google_compute_firewal"), "not in the table"),
        (FIREWALL.replace('"INGRESS"', '"INGRESS"\n  allow {'), "does not parse as HCL"),
        ("google_compute_backend_service.web: timeout_sec = 300", "does not parse as HCL"),
        ('variable "x" {}', "no resource block"),
        (FIREWALL.replace('"staging-vpc"', '"<your network>"'), "placeholder '<your network>'"),
        (
            'resource "google_project_iam_member" "a" {\n  project = "p"\n  role = "roles/x"\n'
            '  member = "serviceAccount:PROBER_SA"\n}\n',
            "placeholder PROBER_SA",
        ),
    ],
)
def test_a_wrong_block_is_named_with_its_problem(text: str, problem: str) -> None:
    assert_named(check(text), problem)
