# The example subscriber (examples/subscriber), deployed only when
# deploy_example_subscriber is true: a Cloud Run function that every event
# published to the events topic reaches as a CloudEvent, through an Eventarc
# Pub/Sub trigger. It is built by the receiver's build service account into
# the receiver's image repository.

# The subscriber's own source archive. Cloud Run functions builds the Go
# package at the root of the source (the Go functions-framework buildpack
# generates a main that imports the module's root package, and ignores
# GOOGLE_FUNCTION_SOURCE), so the module-root archive of the receiver would
# build the receiver. This one holds the subscriber's files at its root,
# with go.mod and go.sum, and the packages it imports in their directories
# (local.subscriber_source_files): the module path stays
# github.com/geminihook/geminihook, whose root package is now the subscriber,
# and the dependency versions are exactly the tested ones. Entries made from
# content carry no timestamp and are written in name order, so the same
# files give the same hash.
data "archive_file" "subscriber_source" {
  count = var.deploy_example_subscriber ? 1 : 0

  type        = "zip"
  output_path = "${path.module}/.build/geminihook-subscriber-source.zip"

  dynamic "source" {
    for_each = local.subscriber_source_files
    content {
      filename = source.key
      content  = file(source.value)
    }
  }
}

resource "google_storage_bucket_object" "subscriber_source" {
  count = var.deploy_example_subscriber ? 1 : 0

  # A new name per content hash, as for the receiver: a code change
  # redeploys the subscriber, and nothing else does.
  name         = "${local.subscriber_name}-${data.archive_file.subscriber_source[0].output_md5}.zip"
  bucket       = google_storage_bucket.source.name
  source       = data.archive_file.subscriber_source[0].output_path
  content_type = "application/zip"

  lifecycle {
    create_before_destroy = true
  }
}

# Two identities, each with the one grant its job needs (iam.tf): the
# function's runtime reads and writes its Firestore records; the trigger's
# identity only invokes the function (Pub/Sub signs each push with a token
# for it). Neither can do what the other does.
resource "google_service_account" "subscriber" {
  count = var.deploy_example_subscriber ? 1 : 0

  account_id   = "${var.name}-sub-run"
  display_name = "${var.name} example subscriber"
  description  = "Runs the ${local.subscriber_name} function: reads and writes its handled webhook ids in Firestore. Nothing else."

  depends_on = [time_sleep.services_ready]
}

resource "google_service_account" "subscriber_trigger" {
  count = var.deploy_example_subscriber ? 1 : 0

  account_id   = "${var.name}-sub-trig"
  display_name = "${var.name} example subscriber trigger"
  description  = "Identity of the Pub/Sub trigger of the ${local.subscriber_name} function: invokes that function. Nothing else."

  depends_on = [time_sleep.services_ready]
}

# As for the receiver: the build grants, the runtime's Firestore grant and a
# just-enabled Eventarc API need time to reach every service.
resource "time_sleep" "subscriber_iam_propagation" {
  count = var.deploy_example_subscriber ? 1 : 0

  create_duration = "60s"

  depends_on = [
    time_sleep.iam_propagation,
    google_project_service.enabled,
    google_project_iam_member.subscriber_uses_firestore,
  ]
}

resource "google_cloudfunctions2_function" "subscriber" {
  count = var.deploy_example_subscriber ? 1 : 0

  name        = local.subscriber_name
  location    = var.region
  description = "Example subscriber (examples/subscriber): handles the Gemini API events on the ${google_pubsub_topic.events.name} topic, skipping webhook ids it handled already."

  build_config {
    runtime = var.go_runtime
    # The name examples/subscriber/function.go registers
    # (subscriber.FunctionName); terraform_test.go holds them equal.
    entry_point       = "HandleGeminiEvent"
    service_account   = google_service_account.build.id
    docker_repository = google_artifact_registry_repository.images.id

    source {
      storage_source {
        bucket = google_storage_bucket.source.name
        object = google_storage_bucket_object.subscriber_source[0].name
      }
    }

    automatic_update_policy {}
  }

  service_config {
    available_memory   = "256Mi"
    timeout_seconds    = 60
    min_instance_count = 0
    max_instance_count = var.subscriber_max_instances
    # Eventarc and Pub/Sub of the same project count as internal: nothing
    # on the internet reaches the subscriber.
    ingress_settings               = "ALLOW_INTERNAL_ONLY"
    all_traffic_on_latest_revision = true
    service_account_email          = google_service_account.subscriber[0].email
    environment_variables          = local.subscriber_environment
  }

  # Eventarc creates (and deletes with the function) a push subscription on
  # the topic for this trigger. It takes no Pub/Sub filter: event_filters
  # match CloudEvents attributes, and the topic is the only selector of a
  # messagePublished trigger. Every event arrives; the subscriber
  # acknowledges the types it has no handler for.
  event_trigger {
    event_type   = "google.cloud.pubsub.topic.v1.messagePublished"
    pubsub_topic = google_pubsub_topic.events.id
    # Without it, an event whose invocation failed (the subscriber returns
    # an error for transient failures) is dropped instead of redelivered.
    retry_policy          = "RETRY_POLICY_RETRY"
    service_account_email = google_service_account.subscriber_trigger[0].email
  }

  depends_on = [time_sleep.subscriber_iam_propagation]
}
