# The sweep as a Cloud Run job, started by Cloud Scheduler through the Jobs `run` endpoint with OAuth.

resource "google_cloud_run_v2_job" "sweep" {
  project             = var.project_id
  name                = var.job_name
  location            = var.region
  deletion_protection = false
  labels              = var.labels

  template {
    # Every task runs the same arguments; infradiag reads CLOUD_RUN_TASK_INDEX / CLOUD_RUN_TASK_COUNT and
    # sweeps only its share of the environments (https://cloud.google.com/run/docs/container-contract).
    task_count  = var.task_count
    parallelism = var.task_count

    template {
      service_account       = google_service_account.sweep.email
      timeout               = "${var.task_timeout_seconds}s"
      max_retries           = 0 # the next scheduled sweep is the retry; a retry would sweep (and record) twice
      execution_environment = "EXECUTION_ENVIRONMENT_GEN2"

      containers {
        image = var.image
        args = concat(
          ["sweep", "--once", "--config", local.config_path, "--deadline", var.deadline, "--fail-on", var.fail_on],
          sort(keys(var.environments)),
        )

        resources {
          limits = {
            cpu    = "1"
            memory = "1Gi"
          }
        }

        volume_mounts {
          name       = "infradiag"
          mount_path = local.mount_path
        }
      }

      volumes {
        name = "infradiag"
        gcs {
          bucket    = google_storage_bucket.history.name
          read_only = false
          # config/ and history/ exist only as object name prefixes; the image runs as uid/gid 10001
          # (terraform/image/Dockerfile), which must own the mount to write history/.
          mount_options = ["implicit-dirs", "uid=10001", "gid=10001"]
        }
      }
    }
  }

  depends_on = [
    google_project_service.required,
    google_project_iam_member.viewer,
    google_storage_bucket_iam_member.sweep_history,
    google_storage_bucket_object.config,
  ]
}

resource "google_cloud_scheduler_job" "sweep" {
  project          = var.project_id
  region           = var.region
  name             = var.job_name
  description      = "Starts the ${var.job_name} Cloud Run job (infradiag sweep)."
  schedule         = var.schedule
  time_zone        = var.time_zone
  attempt_deadline = "60s"

  retry_config {
    retry_count = 0 # the next tick is the retry
  }

  # Cloud Run Admin API v2, jobs.run: https://cloud.google.com/run/docs/reference/rest/v2/projects.locations.jobs/run
  http_target {
    http_method = "POST"
    uri         = "https://run.googleapis.com/v2/${google_cloud_run_v2_job.sweep.id}:run"

    oauth_token {
      service_account_email = google_service_account.trigger.email
      scope                 = "https://www.googleapis.com/auth/cloud-platform"
    }
  }

  depends_on = [google_cloud_run_v2_job_iam_member.trigger_runs_job]
}
