"""The invoker grant names the prober: the service account the run's credentials are, which mints the
probes' ID tokens. The twin asked to require credentials is read as its own service account."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from tests.conftest import SCENARIOS, run_cli
from tests.fixes import gcloud, terraform

PROBER = "infradiag-twin@acme-staging.iam.gserviceaccount.com"


def test_the_invoker_grant_names_the_service_account_the_run_reads_as(tmp_path: Path) -> None:
    scenario = yaml.safe_load((SCENARIOS / "cause-run-invoker-denied.yaml").read_text())
    scenario["twin"] = {"requireCredentials": True}
    path = tmp_path / "invoker-denied-with-credentials.yaml"
    path.write_text(yaml.safe_dump(scenario))
    report = json.loads(run_cli("triage", "--scenario", str(path), "--format", "json").stdout)
    assert report["identity"] == PROBER
    fixes = {f["resources"][0].rsplit("/", 1)[-1]: f["remediation"] for f in report["findings"]}
    fix = fixes["auth"]
    assert fix["commands"] == [
        "gcloud run services add-iam-policy-binding auth --region us-central1 --project acme-staging"
        f" --member serviceAccount:{PROBER} --role roles/run.invoker"
    ]
    assert f'  member   = "serviceAccount:{PROBER}"' in fix["terraform"].splitlines()
    # A grant widens who may invoke the service: marked, with the binding's removal as the way back.
    assert fix["risks"] == ["widens_exposure"]
    assert fix["wayBack"].startswith("gcloud run services remove-iam-policy-binding auth --region")
    assert gcloud.problems(fix["wayBack"], gcloud.load_table()) == []
    assert gcloud.problems(fix["commands"][0], gcloud.load_table()) == []
    assert terraform.problems(fix["terraform"], terraform.load_table()) == []
