locals {
  # The signing secrets reach the receiver as a file of a Secret Manager
  # volume: Cloud Run reads the secret from Secret Manager when the file is
  # read, so a new version is seen without a redeploy.
  secrets_mount_path = "/etc/geminihook"
  secrets_file_name  = "secrets"
  secret_id          = "${var.name}-signing-secrets"

  # The receiver's configuration (the contract in README.md at the root).
  # Variables not set here keep the contract's defaults; terraform_test.go
  # checks that every variable the receiver reads is either here or has one.
  managed_environment = {
    GOOGLE_CLOUD_PROJECT        = var.project_id
    PUBSUB_TOPIC                = google_pubsub_topic.events.name
    PUBSUB_ORDERING             = var.pubsub_ordering
    FIRESTORE_DATABASE          = var.firestore_database
    DEDUPE_COLLECTION           = var.dedupe_collection
    DEDUPE_RETENTION            = "${var.dedupe_retention_hours}h"
    DEDUPE_LEASE                = "${var.dedupe_lease_seconds}s"
    REQUEST_TIMEOUT             = "${var.request_timeout_seconds}s"
    LOG_LEVEL                   = var.log_level
    GEMINI_WEBHOOK_SECRETS_FILE = "${local.secrets_mount_path}/${local.secrets_file_name}"
  }
  function_environment = merge(var.extra_environment_variables, local.managed_environment)

  firestore_location = coalesce(var.firestore_location, var.region)
  # The resource name IAM Conditions see for the claims database and its
  # documents.
  firestore_database_resource = "projects/${var.project_id}/databases/${var.firestore_database}"
  # The IAM condition that limits datastore.user to that database, for the
  # receiver and for the example subscriber.
  firestore_database_condition = "resource.name == \"${local.firestore_database_resource}\" || resource.name.startsWith(\"${local.firestore_database_resource}/\")"

  # Cloud Run functions copies the uploaded source to this bucket, and the
  # build reads it from there.
  gcf_sources_bucket = "gcf-v2-sources-${data.google_project.this.number}-${var.region}"

  # Pub/Sub's service agent forwards undeliverable messages to the
  # dead-letter topic on the subscription's behalf.
  pubsub_service_agent = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"

  dead_lettered_subscriptions = { for k, s in var.subscriptions : k => s if s.dead_letter }

  # The example subscriber (deploy_example_subscriber): its configuration,
  # examples/subscriber/config.go; terraform_test.go checks that it sets
  # every variable the subscriber reads and nothing else.
  subscriber_name = "${var.name}-subscriber"
  subscriber_environment = {
    GOOGLE_CLOUD_PROJECT  = var.project_id
    FIRESTORE_DATABASE    = var.firestore_database
    SUBSCRIBER_COLLECTION = var.subscriber_collection
    LOG_LEVEL             = var.log_level
  }

  # What the subscriber's build needs, from this repository. The Go
  # functions-framework buildpack builds the package at the root of the
  # source it is given (it does not read GOOGLE_FUNCTION_SOURCE), so the
  # subscriber's files go to the root of their own archive, next to this
  # module's go.mod and go.sum, and the module's packages it imports keep
  # their directories. terraform_test.go checks subscriber_packages against
  # the subscriber's imports.
  subscriber_source_dir = "examples/subscriber"
  subscriber_packages   = ["dedupe", "event", "publish"]
  # Path in the archive => path on disk.
  subscriber_source_files = merge(
    { for f in ["go.mod", "go.sum"] : f => "${path.module}/../${f}" },
    {
      for f in fileset("${path.module}/../${local.subscriber_source_dir}", "*.go") :
      f => "${path.module}/../${local.subscriber_source_dir}/${f}" if !endswith(f, "_test.go")
    },
    {
      for f in flatten([for p in local.subscriber_packages : [for g in fileset("${path.module}/../${p}", "*.go") : "${p}/${g}"]]) :
      f => "${path.module}/../${f}" if !endswith(f, "_test.go")
    },
  )

  services = setunion(
    [
      "artifactregistry.googleapis.com",
      "cloudbuild.googleapis.com",
      "cloudfunctions.googleapis.com",
      "cloudresourcemanager.googleapis.com",
      "firestore.googleapis.com",
      "iam.googleapis.com",
      "logging.googleapis.com",
      "monitoring.googleapis.com",
      "pubsub.googleapis.com",
      "run.googleapis.com",
      "secretmanager.googleapis.com",
      "storage.googleapis.com",
    ],
    # The example subscriber's Pub/Sub trigger is an Eventarc trigger.
    var.deploy_example_subscriber ? ["eventarc.googleapis.com"] : [],
  )
}

resource "google_project_service" "enabled" {
  for_each = local.services

  project = var.project_id
  service = each.value
  # Other workloads of the project may use these APIs too.
  disable_on_destroy = false
}

# A freshly enabled API, and the service agents it creates, take a while to
# be usable everywhere; without the pause a first apply can fail halfway.
resource "time_sleep" "services_ready" {
  create_duration = "60s"

  depends_on = [google_project_service.enabled]
}

data "google_project" "this" {
  project_id = var.project_id

  depends_on = [google_project_service.enabled]
}
