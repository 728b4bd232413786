# infradiag sweep on Cloud Run Jobs: identities and their roles, the history bucket and the rendered config.
# The job, its schedule and the alerting live in job.tf and alerting.tf.

locals {
  # Read-only roles granted on every swept project, one per API the collectors call, and why each is
  # needed: generated from the registry of reads (infradiag/collect/registry.py); tests check it is current.
  viewer_roles = {
    # registry: roles, generated from infradiag/collect/registry.py by `./dev python -m infradiag.collect.registry --write`
    "roles/run.viewer"            = "Cloud Run Admin API v2: list Cloud Run resources and read the services' IAM policies"
    "roles/vpcaccess.viewer"      = "Serverless VPC Access API: list connectors (state, machine type, instance bounds)"
    "roles/compute.networkViewer" = "Compute Engine API: subnets, firewalls and the firewall policies in effect (`networks.getEffectiveFirewalls`), routers and Cloud NAT, load balancer backend services, health checks, NEGs, instance groups and instances"
    "roles/cloudsql.viewer"       = "Cloud SQL Admin API: list instances (tier, state, max_connections, private IP)"
    "roles/monitoring.viewer"     = "Cloud Monitoring API: connector, Cloud Run, Cloud SQL and Cloud NAT metrics, and alert policies"
    # registry: end
  }

  swept_projects = distinct([for env in values(var.environments) : env.project])
  viewer_grants = {
    for pair in setproduct(local.swept_projects, keys(local.viewer_roles)) :
    "${pair[0]}/${pair[1]}" => { project = pair[0], role = pair[1] }
  }

  mount_path  = "/mnt/infradiag"
  config_path = "${local.mount_path}/config/infradiag.toml"
  config_lines = concat(
    [
      "# Rendered by terraform/modules/infradiag-sweep; edit the module's inputs, not this object.",
      "[history]",
      # The database lives on the task's local (in-memory) disk where SQLite's WAL and locks work; after
      # every sweep a snapshot is published to the bucket, and a new task seeds itself from it.
      "path = \"/tmp/infradiag/history/{environment}.sqlite\"",
      "publish_dir = \"${local.mount_path}/history\"",
      "keep_days = ${var.history_keep_days}",
      "",
    ],
    flatten([
      for name, env in var.environments : concat(
        ["[environments.${name}]", "project = ${jsonencode(env.project)}", "region = ${jsonencode(env.region)}"],
        env.services == null ? [] : ["services = ${jsonencode(env.services)}"],
        [""],
      )
    ]),
  )
}

resource "google_project_service" "required" {
  for_each = var.enable_apis ? toset([
    "run.googleapis.com",
    "cloudscheduler.googleapis.com",
    "logging.googleapis.com",
    "monitoring.googleapis.com",
    "storage.googleapis.com",
    "iam.googleapis.com",
  ]) : toset([])

  project            = var.project_id
  service            = each.value
  disable_on_destroy = false
}

# The sweep's identity: read-only on the swept projects; its only writes are its own log lines and its
# own history objects in the bucket below.
resource "google_service_account" "sweep" {
  project      = var.project_id
  account_id   = var.job_name
  display_name = "infradiag sweep (read-only triage)"
  description  = "Runs infradiag sweep; read-only roles on the swept projects."
}

resource "google_project_iam_member" "viewer" {
  for_each = local.viewer_grants

  project = each.value.project
  role    = each.value.role
  member  = "serviceAccount:${google_service_account.sweep.email}"
}

# Cloud Run ships container stdout/stderr to Cloud Logging itself; logWriter (write-only, no read) keeps the
# structured sweep lines flowing if the same identity runs the sweep elsewhere (GKE, a VM, Cloud Build).
resource "google_project_iam_member" "log_writer" {
  project = var.project_id
  role    = "roles/logging.logWriter"
  member  = "serviceAccount:${google_service_account.sweep.email}"
}

# Scheduler's identity: may only start this one job (run.jobs.run via roles/run.invoker on the job).
# https://cloud.google.com/run/docs/execute/jobs-on-schedule
resource "google_service_account" "trigger" {
  project      = var.project_id
  account_id   = "${var.job_name}-trigger"
  display_name = "infradiag sweep trigger (Cloud Scheduler)"
  description  = "Starts the infradiag sweep job on schedule; no other role."
}

resource "google_cloud_run_v2_job_iam_member" "trigger_runs_job" {
  project  = var.project_id
  location = var.region
  name     = google_cloud_run_v2_job.sweep.name
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.trigger.email}"
}

# History and config. Object versioning keeps the previous snapshot of each history file for a few days:
# a lost update (two writers, last one wins) or a bad snapshot can be rolled back.
resource "google_storage_bucket" "history" {
  #checkov:skip=CKV_GCP_62:Access logs of a bucket that only this job's identity reads and writes would log the job's own 5-minute writes; Data Access audit logs can be enabled project-wide instead.
  project                     = var.project_id
  name                        = var.history_bucket_name
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false
  labels                      = var.labels

  versioning {
    enabled = true
  }

  lifecycle_rule {
    condition {
      days_since_noncurrent_time = 3
      with_state                 = "ARCHIVED"
    }
    action {
      type = "Delete"
    }
  }

  depends_on = [google_project_service.required]
}

# Storage Object User on this bucket only: read, create, replace and delete objects, as the Cloud Storage
# FUSE volume mount needs (https://cloud.google.com/storage/docs/cloud-storage-fuse/mount-bucket).
resource "google_storage_bucket_iam_member" "sweep_history" {
  bucket = google_storage_bucket.history.name
  role   = "roles/storage.objectUser"
  member = "serviceAccount:${google_service_account.sweep.email}"
}

resource "google_storage_bucket_object" "config" {
  bucket       = google_storage_bucket.history.name
  name         = "config/infradiag.toml"
  content      = join("\n", local.config_lines)
  content_type = "application/toml"
}
