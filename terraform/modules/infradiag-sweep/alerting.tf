# A log-based metric on the sweep's structured log line (one per environment per sweep, see README
# "Scheduled sweeps"), and an alert when a sweep finds a new P0/P1 finding.
# https://cloud.google.com/logging/docs/logs-based-metrics

resource "google_logging_metric" "new_urgent_findings" {
  project     = var.project_id
  name        = "${var.job_name}/new_p0_p1_findings"
  description = "Sweeps of an environment that found a P0/P1 finding the previous sweep did not have at P0/P1."
  # Every clause must hold; the fields are those of the log line (infradiag/sweep/logline.py).
  filter = <<-EOT
    resource.type="cloud_run_job" AND
    resource.labels.job_name="${var.job_name}" AND
    jsonPayload.event="infradiag.sweep/v1" AND
    jsonPayload.counts.newP0P1>0
  EOT

  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "INT64"
    unit         = "1"
    display_name = "infradiag: sweeps with new P0/P1 findings"

    labels {
      key         = "environment"
      value_type  = "STRING"
      description = "The swept environment."
    }
  }

  label_extractors = {
    environment = "EXTRACT(jsonPayload.environment)"
  }

  depends_on = [google_project_service.required]
}

resource "google_monitoring_alert_policy" "new_urgent_findings" {
  project      = var.project_id
  display_name = "infradiag: new P0/P1 finding (${var.job_name})"
  combiner     = "OR"
  severity     = "ERROR"

  conditions {
    display_name = "A sweep found a new P0/P1 finding"

    condition_threshold {
      filter          = "metric.type=\"logging.googleapis.com/user/${google_logging_metric.new_urgent_findings.name}\" AND resource.type=\"cloud_run_job\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"

      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["metric.label.environment"]
      }

      trigger {
        count = 1
      }
    }
  }

  alert_strategy {
    auto_close = "1800s"
  }

  documentation {
    mime_type = "text/markdown"
    content   = <<-EOT
      A scheduled `infradiag sweep` found a P0/P1 finding that the previous sweep of the environment did not
      have (new, or escalated from P2/P3). The sweep's log line names it: in Logs Explorer, query
      `jsonPayload.event="infradiag.sweep/v1" AND jsonPayload.counts.newP0P1>0` and read `message`,
      `newP0P1Findings` and `findings`. Then run `infradiag triage <environment>` for the five whys and the fix.
    EOT
  }

  notification_channels = var.notification_channels
}
