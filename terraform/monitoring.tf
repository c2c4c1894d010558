# Failed deliveries, counted from the receiver's one log line per delivery.
# Gemini retries a failed delivery for 24 hours and may disable a webhook
# whose deliveries keep failing; this alert comes first.

resource "google_logging_metric" "failed_deliveries" {
  name        = "${var.name}/failed_deliveries"
  description = "Deliveries the ${var.name} receiver rejected (outcome rejected:<cause>) or asked Gemini to retry (outcome retry:<cause>), by outcome. Requests that are not POST (rejected:method) are left out: they come from scanners, not Gemini."
  filter = join("\n", [
    "resource.type=\"cloud_run_revision\"",
    "resource.labels.service_name=\"${var.name}\"",
    "jsonPayload.outcome=~\"^(rejected|retry):\"",
    "jsonPayload.outcome!=\"rejected:method\"",
  ])

  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "INT64"
    unit         = "1"
    display_name = "${var.name} failed deliveries"

    labels {
      key         = "outcome"
      value_type  = "STRING"
      description = "The delivery's outcome, e.g. rejected:signature or retry:publish_failed."
    }
  }

  label_extractors = {
    outcome = "EXTRACT(jsonPayload.outcome)"
  }

  depends_on = [time_sleep.services_ready]
}

resource "google_monitoring_notification_channel" "email" {
  for_each = var.enable_alerting ? toset(var.alert_emails) : toset([])

  display_name = "${var.name} alerts: ${each.value}"
  type         = "email"
  labels = {
    email_address = each.value
  }

  depends_on = [time_sleep.services_ready]
}

# Monitoring only knows a new log-based metric some minutes after it is
# created; an alert policy on it fails until then.
resource "time_sleep" "metric_propagation" {
  count = var.enable_alerting ? 1 : 0

  create_duration = "120s"

  depends_on = [google_logging_metric.failed_deliveries]
}

resource "google_monitoring_alert_policy" "failed_deliveries" {
  count = var.enable_alerting ? 1 : 0

  display_name = "${var.name}: Gemini deliveries failing"
  combiner     = "OR"
  severity     = "ERROR"

  conditions {
    display_name = "More than ${var.alert_failed_deliveries_threshold} failed deliveries in ${var.alert_window_seconds}s"

    condition_threshold {
      filter          = "resource.type = \"cloud_run_revision\" AND metric.type = \"logging.googleapis.com/user/${google_logging_metric.failed_deliveries.name}\""
      comparison      = "COMPARISON_GT"
      threshold_value = var.alert_failed_deliveries_threshold
      duration        = "0s"

      aggregations {
        alignment_period     = "${var.alert_window_seconds}s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
      }

      trigger {
        count = 1
      }
    }
  }

  alert_strategy {
    auto_close = "86400s"
  }

  notification_channels = concat(
    [for c in google_monitoring_notification_channel.email : c.id],
    var.alert_notification_channels,
  )

  documentation {
    mime_type = "text/markdown"
    content   = <<-EOT
      The ${var.name} receiver rejected, or asked Gemini to retry, more than
      ${var.alert_failed_deliveries_threshold} deliveries in ${var.alert_window_seconds} seconds.
      Gemini retries every failed delivery for 24 hours and can disable a webhook
      whose deliveries keep failing (state disabled_due_to_failed_deliveries).

      Break the count down by the metric label `outcome`, or read the lines:

          gcloud logging read 'resource.type="cloud_run_revision" AND resource.labels.service_name="${var.name}" AND jsonPayload.outcome=~"^(rejected|retry):"' --project=${var.project_id} --limit=20

      - `rejected:<signature cause>` (401): the stored secret does not match the
        webhook's; check the secret's latest version (README, "Rotate the signing
        secret"). A few of them can also be forged requests.
        Right after a deployment it means no signing secret has been stored yet
        (output register_webhook_command).
      - `retry:claim_unavailable` / `retry:publish_failed` (503): Firestore or
        Pub/Sub is failing; see their status and the receiver's error lines.
      - `retry:in_progress` (409): concurrent copies of one delivery; harmless
        unless it persists.

      If Gemini disabled the webhook, fix the cause, then set its state back to
      enabled with PATCH /v1beta/webhooks/{id} (update_mask=state).
    EOT
  }

  depends_on = [time_sleep.metric_propagation]
}
