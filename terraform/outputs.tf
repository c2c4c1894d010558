locals {
  gemini_api = "https://generativelanguage.googleapis.com/v1beta"
  webhook_registration = jsonencode({
    name              = "${var.name}-${var.project_id}"
    uri               = google_cloudfunctions2_function.receiver.url
    subscribed_events = var.gemini_subscribed_events
  })
  secret_flags = "--secret=${google_secret_manager_secret.signing.secret_id} --project=${var.project_id}"

  # The same steps with the geminihook CLI (cmd/geminihook): no curl or jq,
  # the secret goes from Gemini's answer to Secret Manager without a shell
  # variable, and --finish refuses to drop the old secret before 24 hours.
  # It needs Go 1.26 or newer (or `go install` it once and call geminihook),
  # GEMINI_API_KEY, and Application Default Credentials for Secret Manager.
  cli         = "go run github.com/geminihook/geminihook/cmd/geminihook@latest"
  secret_name = "projects/${var.project_id}/secrets/${google_secret_manager_secret.signing.secret_id}"
}

output "function_url" {
  description = "The receiver's URL: register it with Gemini (register_webhook_command does)."
  value       = google_cloudfunctions2_function.receiver.url
}

output "function_service_account" {
  description = "The identity the receiver runs as."
  value       = google_service_account.function.email
}

output "topic" {
  description = "Topic the verified events are published to."
  value       = google_pubsub_topic.events.name
}

output "dead_letter_topic" {
  description = "Topic that receives messages a subscription could not deliver."
  value       = google_pubsub_topic.dead_letter.name
}

output "subscriptions" {
  description = "Subscriptions to the events topic, by key of var.subscriptions."
  value       = { for k, s in google_pubsub_subscription.events : k => s.name }
}

output "dead_letter_subscription" {
  description = "Subscription that keeps the dead letters."
  value       = google_pubsub_subscription.dead_letter.name
}

output "secret_id" {
  description = "Secret Manager secret that holds the webhook's signing secrets (mounted at GEMINI_WEBHOOK_SECRETS_FILE)."
  value       = google_secret_manager_secret.signing.secret_id
}

output "firestore_database" {
  description = "Firestore database of the delivery claims."
  value       = var.firestore_database
}

output "register_webhook_command" {
  description = "Registers function_url with Gemini (GEMINI_API_KEY must be set) and stores the signing secret Gemini returns as the secret's new version, without printing it. Prints the webhook id to export as WEBHOOK_ID. Needs curl, jq and gcloud."
  value       = <<-EOT
    curl -fsS -X POST '${local.gemini_api}/webhooks' \
      -H "x-goog-api-key: $GEMINI_API_KEY" -H 'content-type: application/json' \
      -d '${local.webhook_registration}' \
    | jq -er '.id, .new_signing_secret' \
    | { IFS= read -r WEBHOOK_ID && IFS= read -r SIGNING_SECRET && [ "$SIGNING_SECRET" != null ] \
        && printf '%s\n' "$SIGNING_SECRET" | gcloud secrets versions add ${local.secret_flags} --data-file=- \
        && echo "Signing secret stored. Now run: export WEBHOOK_ID=$WEBHOOK_ID"; }
  EOT
}

output "ping_command" {
  description = "Asks Gemini to send a test delivery to the registered webhook (GEMINI_API_KEY and WEBHOOK_ID must be set)."
  value       = <<-EOT
    curl -fsS -X POST "${local.gemini_api}/webhooks/$WEBHOOK_ID:ping" \
      -H "x-goog-api-key: $GEMINI_API_KEY" -H 'content-type: application/json' -d '{}'
  EOT
}

output "pull_command" {
  description = "Shows (and acknowledges) what arrived on the first subscription."
  value       = try("gcloud pubsub subscriptions pull ${values(google_pubsub_subscription.events)[0].name} --project=${var.project_id} --auto-ack --limit=10", "")
}

output "rotate_secret_command" {
  description = "Rotation, step 1: asks Gemini for a new signing secret (the old one stays valid 24 hours) and stores \"new old\" as the secret's new version, which the receiver picks up within seconds. GEMINI_API_KEY and WEBHOOK_ID must be set."
  value       = <<-EOT
    OLD_SECRETS="$(gcloud secrets versions access latest ${local.secret_flags})" \
    && NEW_SECRET="$(curl -fsS -X POST "${local.gemini_api}/webhooks/$WEBHOOK_ID:rotateSigningSecret" \
         -H "x-goog-api-key: $GEMINI_API_KEY" -H 'content-type: application/json' \
         -d '{"revocation_behavior":"revoke_previous_secrets_after_h24"}' | jq -er '.secret')" \
    && printf '%s\n%s\n' "$NEW_SECRET" "$OLD_SECRETS" | gcloud secrets versions add ${local.secret_flags} --data-file=- \
    && unset OLD_SECRETS NEW_SECRET && echo "New and old secrets stored. After 24 hours, run finish_rotation_command."
  EOT
}

output "finish_rotation_command" {
  description = "Rotation, step 2 (24 hours after step 1, once Gemini has revoked the old secret): keeps only the new secret, the first line of the current version."
  value       = "gcloud secrets versions access latest ${local.secret_flags} | head -n 1 | gcloud secrets versions add ${local.secret_flags} --data-file=-"
}

# ---------------------------------------------------- the same, with the CLI

output "register_webhook_cli_command" {
  description = "Like register_webhook_command, with the geminihook CLI instead of curl and jq: registers function_url for gemini_subscribed_events and adds the signing secret as a new version of the secret, without printing it. Prints the webhook id to export as WEBHOOK_ID. GEMINI_API_KEY must be set."
  value       = "${local.cli} webhooks create --uri '${google_cloudfunctions2_function.receiver.url}' --events ${join(",", var.gemini_subscribed_events)} --name '${var.name}-${var.project_id}' --secret-to ${local.secret_name}"
}

output "ping_cli_command" {
  description = "Like ping_command, with the geminihook CLI (GEMINI_API_KEY and WEBHOOK_ID must be set)."
  value       = "${local.cli} webhooks ping \"$WEBHOOK_ID\""
}

output "rotate_secret_cli_command" {
  description = "Like rotate_secret_command, with the geminihook CLI: asks Gemini for a new signing secret (the old one stays valid 24 hours) and stores \"new old\" as the secret's new version. GEMINI_API_KEY and WEBHOOK_ID must be set."
  value       = "${local.cli} webhooks rotate \"$WEBHOOK_ID\" --secret-to ${local.secret_name}"
}

output "finish_rotation_cli_command" {
  description = "Like finish_rotation_command, with the geminihook CLI: keeps only the newest secret; refuses while the latest version is younger than 24 hours."
  value       = "${local.cli} webhooks rotate --finish --secret-to ${local.secret_name}"
}

# ------------------------------------------------------- example subscriber

output "example_subscriber_function" {
  description = "Name of the example subscriber function (and of its Cloud Run service); null unless deploy_example_subscriber."
  value       = one(google_cloudfunctions2_function.subscriber[*].name)
}

output "example_subscriber_service_account" {
  description = "The identity the example subscriber runs as; null unless deploy_example_subscriber."
  value       = one(google_service_account.subscriber[*].email)
}

output "example_subscriber_trigger_service_account" {
  description = "The identity of the example subscriber's Pub/Sub trigger (allowed to invoke it, nothing else); null unless deploy_example_subscriber."
  value       = one(google_service_account.subscriber_trigger[*].email)
}

output "example_subscriber_logs_command" {
  description = "Shows the example subscriber's last lines (outcome handled, duplicate, dropped or retry); null unless deploy_example_subscriber."
  value       = var.deploy_example_subscriber ? "gcloud logging read 'resource.type=\"cloud_run_revision\" AND resource.labels.service_name=\"${local.subscriber_name}\" AND jsonPayload.outcome:*' --project=${var.project_id} --limit=10 --format='value(jsonPayload.outcome,jsonPayload.event_type,jsonPayload.webhook_id)'" : null
}
