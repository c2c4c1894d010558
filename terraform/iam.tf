# Every role this module grants, each on the smallest resource that works.
# terraform_test.go holds this list to exactly these grants: a new one has
# to be argued for there. No basic role is granted anywhere.

# ---------------------------------------------------------------- receiver

# Publish to the events topic, and to no other topic.
resource "google_pubsub_topic_iam_member" "function_publishes_events" {
  project = var.project_id
  topic   = google_pubsub_topic.events.name
  role    = "roles/pubsub.publisher"
  member  = google_service_account.function.member
}

# Read and write documents of the claims database only. Firestore has no
# database-level IAM resource, so the project-level grant carries a condition
# on the database's resource name.
resource "google_project_iam_member" "function_uses_firestore" {
  project = var.project_id
  role    = "roles/datastore.user"
  member  = google_service_account.function.member

  condition {
    title       = "${var.name}-claims-database-only"
    description = "Only the Firestore database that holds the ${var.name} delivery claims."
    expression  = local.firestore_database_condition
  }
}

# Read the signing secret, and no other secret.
resource "google_secret_manager_secret_iam_member" "function_reads_secret" {
  project   = var.project_id
  secret_id = google_secret_manager_secret.signing.secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.function.member
}

# The public invocation grant (roles/run.invoker to allUsers) sits next to
# the function in function.tf.

# ------------------------------------------------------------------- build

# Cloud Build with a user-specified service account writes its logs to
# Cloud Logging; there is no narrower resource for this permission.
resource "google_project_iam_member" "build_writes_logs" {
  project = var.project_id
  role    = "roles/logging.logWriter"
  member  = google_service_account.build.member
}

# Push the function's image to its own repository only.
resource "google_artifact_registry_repository_iam_member" "build_pushes_images" {
  project    = var.project_id
  location   = google_artifact_registry_repository.images.location
  repository = google_artifact_registry_repository.images.name
  role       = "roles/artifactregistry.writer"
  member     = google_service_account.build.member
}

# Read the function's source, which Cloud Run functions copies to a bucket
# it creates on first deployment (so no bucket-level grant can be made in
# advance): a project-level grant limited to that bucket.
resource "google_project_iam_member" "build_reads_sources" {
  project = var.project_id
  role    = "roles/storage.objectViewer"
  member  = google_service_account.build.member

  condition {
    title       = "${var.name}-function-sources-only"
    description = "Only the bucket where Cloud Run functions keeps function sources for ${var.region}."
    expression  = "resource.name == \"projects/_/buckets/${local.gcf_sources_bucket}\" || resource.name.startsWith(\"projects/_/buckets/${local.gcf_sources_bucket}/\")"
  }
}

# ------------------------------------------------------ example subscriber
# Only with deploy_example_subscriber.

# The subscriber's runtime reads and writes its handled webhook ids: the same
# role, on the same database only, as the receiver.
resource "google_project_iam_member" "subscriber_uses_firestore" {
  count = var.deploy_example_subscriber ? 1 : 0

  project = var.project_id
  role    = "roles/datastore.user"
  member  = google_service_account.subscriber[0].member

  condition {
    title       = "${local.subscriber_name}-database-only"
    description = "Only the Firestore database that holds the ${local.subscriber_name} handled webhook ids."
    expression  = local.firestore_database_condition
  }
}

# The trigger's identity invokes the subscriber's Cloud Run service, and no
# other. This is all a Pub/Sub trigger needs in a project whose Pub/Sub
# service agent was created after April 8, 2021: Eventarc's Event Receiver
# role is not needed for Pub/Sub events, and the Eventarc and Cloud Functions
# service agents get their roles when their APIs are enabled. (Older
# projects: see "Example subscriber" in README.md.) The service only exists
# once the function is deployed, so this follows it; a delivery refused in
# between is retried.
resource "google_cloud_run_v2_service_iam_member" "subscriber_trigger_invokes" {
  count = var.deploy_example_subscriber ? 1 : 0

  project  = var.project_id
  location = google_cloudfunctions2_function.subscriber[0].location
  name     = google_cloudfunctions2_function.subscriber[0].name
  role     = "roles/run.invoker"
  member   = google_service_account.subscriber_trigger[0].member
}

# ------------------------------------------------------------------ Pub/Sub

# Dead-lettering: Pub/Sub's service agent publishes what a subscription gave
# up on to the dead-letter topic...
resource "google_pubsub_topic_iam_member" "pubsub_agent_dead_letters" {
  project = var.project_id
  topic   = google_pubsub_topic.dead_letter.name
  role    = "roles/pubsub.publisher"
  member  = local.pubsub_service_agent
}

# ...and acknowledges it on the subscription it came from.
resource "google_pubsub_subscription_iam_member" "pubsub_agent_acks_dead_letters" {
  for_each = local.dead_lettered_subscriptions

  project      = var.project_id
  subscription = google_pubsub_subscription.events[each.key].name
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_service_agent
}
