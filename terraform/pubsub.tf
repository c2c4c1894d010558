# The events topic the receiver publishes to, its subscriptions, and where
# messages no subscriber could take end up.

resource "google_pubsub_topic" "events" {
  name                       = var.topic_name
  message_retention_duration = var.topic_message_retention

  depends_on = [time_sleep.services_ready]
}

resource "google_pubsub_topic" "dead_letter" {
  name                       = "${var.topic_name}-dead-letter"
  message_retention_duration = var.topic_message_retention

  depends_on = [time_sleep.services_ready]
}

# A topic without a subscription drops what is published to it: this one
# keeps dead letters for the longest Pub/Sub allows.
resource "google_pubsub_subscription" "dead_letter" {
  name                       = "${var.topic_name}-dead-letter"
  topic                      = google_pubsub_topic.dead_letter.id
  ack_deadline_seconds       = 60
  message_retention_duration = "2678400s"

  expiration_policy {
    ttl = ""
  }
}

resource "google_pubsub_subscription" "events" {
  for_each = var.subscriptions

  name                       = each.key
  topic                      = google_pubsub_topic.events.id
  filter                     = each.value.filter
  ack_deadline_seconds       = each.value.ack_deadline_seconds
  message_retention_duration = each.value.message_retention_duration
  enable_message_ordering    = coalesce(each.value.enable_message_ordering, var.pubsub_ordering == "resource")

  # Webhooks can be quiet for weeks; an idle subscription must not expire.
  expiration_policy {
    ttl = ""
  }

  dynamic "push_config" {
    for_each = each.value.push_endpoint == null ? [] : [each.value]
    content {
      push_endpoint = push_config.value.push_endpoint

      dynamic "oidc_token" {
        for_each = push_config.value.push_service_account_email == null ? [] : [push_config.value]
        content {
          service_account_email = oidc_token.value.push_service_account_email
          audience              = oidc_token.value.push_audience
        }
      }
    }
  }

  dynamic "dead_letter_policy" {
    for_each = each.value.dead_letter ? [each.value] : []
    content {
      dead_letter_topic     = google_pubsub_topic.dead_letter.id
      max_delivery_attempts = dead_letter_policy.value.max_delivery_attempts
    }
  }

  retry_policy {
    minimum_backoff = each.value.retry_minimum_backoff
    maximum_backoff = each.value.retry_maximum_backoff
  }
}
