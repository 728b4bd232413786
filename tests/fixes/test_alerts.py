"""The alert policy an alert-gap fix proposes: per signal the resource type, filter, aligner, comparator,
threshold and duration that fit it; the configured notification channels; the request rendered as gcloud
and Terraform that pass the tables."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
from typing import Any

import pytest

from infradiag.config.model import Thresholds
from infradiag.fixes import FieldChange, build_change, gcloud_command, terraform_block, update_mask
from infradiag.fixes.alerts import alert_policy
from tests.fixes import gcloud, terraform

THRESHOLDS = Thresholds().model_dump()
DB = "projects/acme-staging/instances/staging-db"
SERVICE = "projects/acme-staging/locations/us-central1/services/api"
CHANNEL = "projects/acme-staging/notificationChannels/4711"


def policy(cause: str, resource: str, channels: list[str] | None = None, **subject: Any) -> dict[str, Any]:
    pool = [{"resource": resource, **subject}]
    return alert_policy({"cause": cause, "resource": resource}, THRESHOLDS, channels or [], pool, pool)


def threshold(found: dict[str, Any]) -> dict[str, Any]:
    [condition] = found["conditions"]
    return dict(condition["conditionThreshold"])


def test_a_database_that_is_down_alerts_below_1_within_a_minute() -> None:
    up = threshold(policy("sql.instance_unavailable", DB))
    assert up["comparison"] == "COMPARISON_LT" and up["thresholdValue"] == 1
    assert up["aggregations"] == [{"alignmentPeriod": "60s", "perSeriesAligner": "ALIGN_MIN"}]
    assert up["duration"] == "60s"
    assert up["filter"] == (
        'metric.type="cloudsql.googleapis.com/database/up" AND resource.type="cloudsql_database" '
        'AND resource.labels.database_id="acme-staging:staging-db"'
    )


def test_connections_alert_at_the_warning_share_of_max_connections_summed_over_databases() -> None:
    found = threshold(policy("sql.max_connections_exhausted", DB, engine="POSTGRES", max_connections=100))
    assert found["filter"].startswith(
        'metric.type="cloudsql.googleapis.com/database/postgresql/num_backends"'
    )
    assert (found["comparison"], found["thresholdValue"]) == ("COMPARISON_GT", 80)
    [aggregation] = found["aggregations"]
    assert aggregation["crossSeriesReducer"] == "REDUCE_SUM"
    assert aggregation["groupByFields"] == ["resource.label.database_id"]


def test_a_mysql_instance_alerts_on_network_connections() -> None:
    found = policy("sql.max_connections_exhausted", DB, engine="MYSQL", max_connections=200)
    assert found["metric"] == "cloudsql.googleapis.com/database/network/connections"
    assert threshold(found)["thresholdValue"] == 160


def test_server_errors_alert_on_any_5xx_of_the_service() -> None:
    found = threshold(policy("app.error", SERVICE))
    assert 'resource.type="cloud_run_revision"' in found["filter"]
    assert 'resource.labels.service_name="api"' in found["filter"]
    assert 'metric.labels.response_code_class="5xx"' in found["filter"]
    assert (found["comparison"], found["thresholdValue"]) == ("COMPARISON_GT", 0)
    assert found["aggregations"][0]["perSeriesAligner"] == "ALIGN_DELTA"


def test_instances_alert_at_the_services_own_max_or_cloud_runs_default() -> None:
    assert threshold(policy("run.max_instances_reached", SERVICE, max_instances=7))["thresholdValue"] == 7
    assert threshold(policy("run.max_instances_reached", SERVICE))["thresholdValue"] == 100
    assert threshold(policy("run.max_instances_reached", SERVICE))["comparison"] == "COMPARISON_GE"


def test_without_a_configured_channel_none_is_sent_and_with_one_it_is() -> None:
    assert policy("sql.cpu_saturated", DB)["channels"] is None
    assert policy("sql.cpu_saturated", DB, [CHANNEL])["channels"] == [CHANNEL]


def test_a_resource_no_signal_fits_proposes_nothing_and_says_what_to_do() -> None:
    found = policy("sql.cpu_saturated", "projects/p/global/networks/default")
    assert (found["conditions"], found["display_name"], found["channels"]) == (None, None, None)
    assert "write the condition by hand" in found["note"]


def _create(found: dict[str, Any]) -> Any:
    fields = [
        FieldChange(field=name, current=None, proposed=found[key], why="w")
        for name, key in (
            ("displayName", "display_name"),
            ("combiner", "combiner"),
            ("conditions", "conditions"),
            ("notificationChannels", "channels"),
        )
    ]
    return build_change(
        "monitoring", "projects.alertPolicies.create", "projects/acme-staging", fields, {}, []
    )


def test_the_create_request_renders_as_gcloud_and_terraform_the_tables_accept() -> None:
    change = _create(policy("sql.instance_unavailable", DB, [CHANNEL]))
    command = gcloud_command(change)
    assert gcloud.problems(command, gcloud.load_table()) == []
    words = shlex.split(command)
    # --policy is the request body itself: the command creates exactly the typed change.
    assert json.loads(words[words.index("--policy") + 1]) == change.body()
    assert change.body()["notificationChannels"] == [CHANNEL]
    assert update_mask(change) is None
    block = terraform_block(change)
    assert terraform.problems(block, terraform.load_table()) == []
    assert f'notification_channels = ["{CHANNEL}"]' in block
    assert 'per_series_aligner = "ALIGN_MIN"' in block


def test_a_policy_without_a_condition_is_no_request() -> None:
    change = _create(policy("sql.cpu_saturated", "projects/p/global/networks/default"))
    assert change.empty and gcloud_command(change) == ""


@pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not installed")
def test_terraform_fmt_leaves_the_alert_policy_block_as_it_is() -> None:
    block = terraform_block(_create(policy("app.error", SERVICE, [CHANNEL]))) + "\n"
    formatted = subprocess.run(
        ["terraform", "fmt", "-"], input=block, capture_output=True, text=True, check=True
    ).stdout
    assert formatted == block
