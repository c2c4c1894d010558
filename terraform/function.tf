# The receiver: a Cloud Run function built from this repository's source.

# The module root, zipped. Only what the Go build needs is included, so that
# the object name, and with it the deployment, changes exactly when the code
# does.
data "archive_file" "source" {
  type        = "zip"
  source_dir  = "${path.module}/.."
  output_path = "${path.module}/.build/geminihook-source.zip"
  # Same bytes, same hash, whatever the umask of the machine that applies.
  output_file_mode = "0644"
  excludes = [
    # Hidden files and directories: .git, CI configuration, and any local
    # .env or credentials file that must never leave the machine.
    "**/.*", "**/.*/**",
    # This module (with its state and the zip itself) and the end-to-end
    # tests.
    "terraform", "terraform/**",
    "test", "test/**",
    "scripts", "scripts/**",
    "bin", "bin/**",
    "Makefile",
    "**/*.md",
    "**/*_test.go",
    "**/testdata", "**/testdata/**",
  ]
}

resource "google_storage_bucket" "source" {
  name                        = "${var.project_id}-${var.name}-source"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  # Only build inputs live here; destroy may delete them.
  force_destroy = true

  depends_on = [time_sleep.services_ready]
}

resource "google_storage_bucket_object" "source" {
  # A new name per content hash: a code change replaces the object, which
  # changes build_config and redeploys the function.
  name         = "${var.name}-${data.archive_file.source.output_md5}.zip"
  bucket       = google_storage_bucket.source.name
  source       = data.archive_file.source.output_path
  content_type = "application/zip"

  lifecycle {
    create_before_destroy = true
  }
}

resource "google_artifact_registry_repository" "images" {
  location      = var.region
  repository_id = var.name
  format        = "DOCKER"
  description   = "Images of the ${var.name} function, written by its build service account only."

  cleanup_policy_dry_run = false
  cleanup_policies {
    id     = "keep-recent"
    action = "KEEP"
    most_recent_versions {
      keep_count = 5
    }
  }
  cleanup_policies {
    id     = "delete-old"
    action = "DELETE"
    condition {
      older_than = "30d"
    }
  }

  depends_on = [time_sleep.services_ready]
}

resource "google_service_account" "function" {
  account_id   = "${var.name}-run"
  display_name = "${var.name} receiver"
  description  = "Runs the ${var.name} function: publishes to its topic, uses its Firestore database, reads its signing secret. Nothing else."

  depends_on = [time_sleep.services_ready]
}

resource "google_service_account" "build" {
  account_id   = "${var.name}-build"
  display_name = "${var.name} build"
  description  = "Cloud Build identity of the ${var.name} function: reads its source, pushes its image, writes build logs. Nothing else."

  depends_on = [time_sleep.services_ready]
}

# IAM changes take up to a few minutes to reach every service; the build
# and the deployment checks fail if they start before.
resource "time_sleep" "iam_propagation" {
  create_duration = "60s"

  depends_on = [
    google_project_iam_member.build_writes_logs,
    google_project_iam_member.build_reads_sources,
    google_artifact_registry_repository_iam_member.build_pushes_images,
    google_secret_manager_secret_iam_member.function_reads_secret,
    google_pubsub_topic_iam_member.function_publishes_events,
    google_project_iam_member.function_uses_firestore,
  ]
}

resource "google_cloudfunctions2_function" "receiver" {
  name        = var.name
  location    = var.region
  description = "Receives Gemini API webhooks, verifies them, claims each webhook-id in Firestore and publishes the event to Pub/Sub."

  build_config {
    runtime = var.go_runtime
    # The name function.go registers with the functions framework
    # (geminihook.FunctionName); terraform_test.go holds them equal.
    entry_point       = "GeminiWebhook"
    service_account   = google_service_account.build.id
    docker_repository = google_artifact_registry_repository.images.id

    source {
      storage_source {
        bucket = google_storage_bucket.source.name
        object = google_storage_bucket_object.source.name
      }
    }

    # Runtime security patches are applied without a redeploy.
    automatic_update_policy {}
  }

  service_config {
    available_memory                 = var.memory
    available_cpu                    = var.cpu
    max_instance_request_concurrency = var.max_concurrency
    timeout_seconds                  = var.timeout_seconds
    min_instance_count               = var.min_instances
    max_instance_count               = var.max_instances
    # Gemini calls from the internet; see "Public invocation" in README.md.
    ingress_settings               = "ALLOW_ALL"
    all_traffic_on_latest_revision = true
    service_account_email          = google_service_account.function.email
    environment_variables          = local.function_environment

    # The signing secrets, as the file GEMINI_WEBHOOK_SECRETS_FILE names.
    # "latest" is resolved whenever the file is read, so rotating needs a
    # new secret version, not a redeploy.
    secret_volumes {
      mount_path = local.secrets_mount_path
      # The provider documents the project number as the preferred form.
      project_id = data.google_project.this.number
      secret     = google_secret_manager_secret.signing.secret_id
      versions {
        version = "latest"
        path    = local.secrets_file_name
      }
    }
  }

  depends_on = [
    time_sleep.iam_propagation,
    # Deployment checks that "latest" resolves.
    google_secret_manager_secret_version.placeholder,
  ]
}

# Gemini cannot authenticate to Cloud Run, so anyone may invoke the
# function; the receiver's signature check is what lets a delivery in.
resource "google_cloud_run_v2_service_iam_member" "public_invoker" {
  project  = var.project_id
  location = google_cloudfunctions2_function.receiver.location
  # The Cloud Run service of a function has the function's name.
  name   = google_cloudfunctions2_function.receiver.name
  role   = "roles/run.invoker"
  member = "allUsers"
}
