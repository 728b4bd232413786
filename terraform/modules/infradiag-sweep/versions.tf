terraform {
  required_version = ">= 1.5"

  required_providers {
    google = {
      source = "hashicorp/google"
      # 6.x: google_cloud_run_v2_job with `deletion_protection` and Cloud Storage (`gcs`) volumes.
      version = ">= 6.0, < 8.0"
    }
  }
}
