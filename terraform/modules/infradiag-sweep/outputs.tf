output "job_name" {
  description = "The Cloud Run job; run it by hand with `gcloud run jobs execute`."
  value       = google_cloud_run_v2_job.sweep.name
}

output "service_account_email" {
  description = "Identity of the sweep (read-only on the swept projects)."
  value       = google_service_account.sweep.email
}

output "history_bucket" {
  description = "Bucket holding config/infradiag.toml and history/<environment>.sqlite."
  value       = google_storage_bucket.history.name
}

output "viewer_roles" {
  description = "Roles granted on every swept project, with why each is needed."
  value       = local.viewer_roles
}

output "new_urgent_findings_metric" {
  description = "Log-based metric counting sweeps that found a new P0/P1 finding."
  value       = "logging.googleapis.com/user/${google_logging_metric.new_urgent_findings.name}"
}
