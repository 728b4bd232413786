# Example: sweep one staging project every 5 minutes from a Cloud Run job, and alert on new P0/P1 findings.
#
#   docker build -f terraform/image/Dockerfile -t REGION-docker.pkg.dev/PROJECT/REPO/infradiag:VERSION .
#   docker push ...; then, in this folder:
#   terraform init && terraform apply -var image=REGION-docker.pkg.dev/PROJECT/REPO/infradiag@sha256:...

terraform {
  required_version = ">= 1.5"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 6.0, < 8.0"
    }
  }
}

provider "google" {
  project = var.project_id
  region  = var.region
}

variable "project_id" {
  description = "The staging project: hosts the sweep and is the one swept."
  type        = string
  default     = "acme-staging"
}

variable "region" {
  description = "Region of the staging services and of the sweep."
  type        = string
  default     = "us-central1"
}

variable "image" {
  description = "The infradiag image, pinned by digest."
  type        = string
}

variable "notification_channels" {
  description = "Where the new-P0/P1 alert goes (e.g. the on-call email or PagerDuty channel)."
  type        = list(string)
  default     = []
}

module "infradiag_sweep" {
  source = "../../modules/infradiag-sweep"

  project_id          = var.project_id
  region              = var.region
  image               = var.image
  history_bucket_name = "${var.project_id}-infradiag-history"

  environments = {
    staging = {
      project  = var.project_id
      region   = var.region
      services = ["backend", "auth", "websocket", "frontend"]
    }
  }

  schedule              = "*/5 * * * *"
  task_timeout_seconds  = 240
  notification_channels = var.notification_channels
  labels = {
    app  = "infradiag"
    team = "platform"
  }
}

output "job_name" {
  value = module.infradiag_sweep.job_name
}

output "service_account_email" {
  value = module.infradiag_sweep.service_account_email
}

output "history_bucket" {
  value = module.infradiag_sweep.history_bucket
}
