variable "project_id" {
  description = "Project that hosts the sweep: the Cloud Run job, its scheduler, history bucket, metric and alert."
  type        = string
}

variable "region" {
  description = "Region of the Cloud Run job, the Cloud Scheduler job and the history bucket."
  type        = string
}

variable "image" {
  description = "Container image whose entrypoint is `infradiag` (see terraform/image/Dockerfile), pinned by digest."
  type        = string
}

variable "environments" {
  description = <<-EOT
    Environments to sweep, by name (the name appears in the history, the log line and the alert). Each is a
    project and region to read; `services` optionally limits the probed Cloud Run services.
  EOT
  type = map(object({
    project  = string
    region   = string
    services = optional(list(string))
  }))

  validation {
    condition     = length(var.environments) > 0
    error_message = "Sweep at least one environment."
  }
  validation {
    condition     = alltrue([for name in keys(var.environments) : can(regex("^[A-Za-z0-9][A-Za-z0-9_-]*$", name))])
    error_message = "Environment names may only use letters, digits, '_' and '-' (they name history files)."
  }
}

variable "job_name" {
  description = "Name of the Cloud Run job (also used for the service accounts, scheduler job and metric)."
  type        = string
  default     = "infradiag-sweep"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,20}[a-z0-9]$", var.job_name))
    error_message = "Use 6-22 lowercase letters, digits or '-', starting with a letter: service account ids derive from it."
  }
}

variable "schedule" {
  description = "How often to sweep, in unix-cron format (Cloud Scheduler)."
  type        = string
  default     = "*/5 * * * *"
}

variable "time_zone" {
  description = "Time zone of `schedule`."
  type        = string
  default     = "Etc/UTC"
}

variable "task_count" {
  description = "Parallel tasks per execution; CLOUD_RUN_TASK_INDEX/COUNT split the environments between them."
  type        = number
  default     = 1

  validation {
    condition     = var.task_count >= 1 && floor(var.task_count) == var.task_count
    error_message = "task_count is a whole number of at least 1."
  }
}

variable "task_timeout_seconds" {
  description = <<-EOT
    Task timeout. Keep it below the schedule's interval so that two executions never sweep the same
    environment at once (their history copies would race: the last one published wins).
  EOT
  type        = number
  default     = 240
}

variable "deadline" {
  description = "`infradiag sweep --deadline`: how long one environment's triage may take."
  type        = string
  default     = "120s"
}

variable "fail_on" {
  description = "`--fail-on`: priority at or above which a sweep exits 1 (the execution is then marked failed)."
  type        = string
  default     = "P1"

  validation {
    condition     = contains(["P0", "P1", "P2", "P3"], var.fail_on)
    error_message = "fail_on is one of P0, P1, P2, P3."
  }
}

variable "history_bucket_name" {
  description = "Globally unique name of the Cloud Storage bucket that keeps the history (created here)."
  type        = string
}

variable "history_keep_days" {
  description = "Sweeps older than this are pruned from each environment's history."
  type        = number
  default     = 90
}

variable "notification_channels" {
  description = "Monitoring notification channel ids (projects/P/notificationChannels/N) for the alert."
  type        = list(string)
  default     = []
}

variable "enable_apis" {
  description = "Enable the APIs the sweep needs in project_id (never disabled on destroy)."
  type        = bool
  default     = true
}

variable "labels" {
  description = "Labels for the job and the bucket."
  type        = map(string)
  default     = {}
}
