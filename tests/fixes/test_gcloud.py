"""The gcloud command checker against the committed table of gcloud 528's commands and flags."""

from __future__ import annotations

import pytest

from tests.fixes.checker_table import assert_named
from tests.fixes.gcloud import load_table, problems

NAT = (
    "gcloud compute routers nats update staging-nat --router staging-router --region us-central1"
    " --project acme-staging"
)


def check(command: str) -> list[str]:
    return problems(command, load_table())


def test_the_table_says_which_gcloud_it_was_taken_from() -> None:
    table = load_table()
    assert table["gcloud_version"].split(".")[0].isdigit()
    assert table["global_flags"]["--project"] != "bool"
    # GA in Google's reference, alpha only in the SDK the table was taken from: the entry names its page.
    promoted = table["commands"]["monitoring policies create"]
    assert promoted["reference"].endswith("/reference/monitoring/policies/create")
    assert "alpha monitoring policies create" not in table["commands"]


@pytest.mark.parametrize(
    "command",
    [
        f"{NAT} --min-ports-per-vm 2048",
        f"{NAT} --min-ports-per-vm=2048 --enable-dynamic-port-allocation",
        f"{NAT} --no-enable-endpoint-independent-mapping",
        "gcloud run services update frontend --region us-central1 --project acme-staging --ingress internal",
        "gcloud compute backend-services update web --global --project p --no-health-checks",
        "gcloud sql instances patch db --project p --activation-policy ALWAYS",
        "gcloud compute addresses create $(seq -f 'nat-ip-%g' 2 3) --region us-central1 --project p",
        f"gcloud compute networks vpc-access connectors describe c --region r --project p && {NAT} --async",
        "gcloud projects describe acme-staging",
    ],
)
def test_a_command_of_the_table_with_its_flags_passes(command: str) -> None:
    assert check(command) == []


@pytest.mark.parametrize(
    ("command", "problem"),
    [
        (f"{NAT} --min-port-per-vm 2048", "has no flag --min-port-per-vm"),
        (f"{NAT} --enable-dynamic-port-allocation=true", "boolean flag"),
        (
            f"{NAT} --min-ports-per-vm",
            "--min-ports-per-vm of `gcloud compute routers nats update` needs a value",
        ),
        (f"{NAT} --no-min-ports-per-vm", "has no flag --no-min-ports-per-vm"),
        ("gcloud run services update a --region r --project p --ingress everywhere", "takes one of all"),
        (
            "gcloud compute networks vpc-acess connectors update c --region r --project p",
            "unknown gcloud command",
        ),
        (
            "gcloud compute networks vpc-access connectors create c --region r --project p --network NETWORK",
            "NETWORK",
        ),
        (
            "gcloud run services add-iam-policy-binding a --region r --project p"
            " --member serviceAccount:PROBER_SA --role roles/run.invoker",
            "placeholder PROBER_SA",
        ),
        ("gcloud sql instances patch <instance> --project p", "placeholder"),
        ("gcloud run services update a --region r --memory 1Gi", "does not say --project"),
        ("gcloud run services update a --project p --memory 1Gi", "does not say its scope (--region)"),
        (
            "gcloud compute routers nats update nat --region r --project p --min-ports-per-vm 64",
            "requires --router",
        ),
        ("gcloud alpha sql instances clone a b c --project p", "takes 2 positional arguments"),
        (
            "gcloud compute networks vpc-access connectors update c --region r --project p"
            " --max-instances 10",
            "takes --max-instances only with --min-instances",
        ),
        (f"{NAT} && gcloud run services update a --region r", "does not say --project"),
        (
            "gcloud compute addresses create a --region r --project p"
            ' --description "$(gcloud projects describ p)"',
            "unknown gcloud command",
        ),
    ],
)
def test_a_wrong_command_is_named_with_its_problem(command: str, problem: str) -> None:
    assert_named(check(command), problem)
