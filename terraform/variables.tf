# Inputs of the geminihook deployment. Only project_id is required; every
# default matches the receiver's configuration contract (README.md at the
# repository root), and terraform_test.go holds the two together.

variable "project_id" {
  type        = string
  description = "Google Cloud project to deploy into. Billing must be enabled on it."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a project ID (6 to 30 lower-case letters, digits and hyphens), not a project name or number."
  }
}

variable "region" {
  type        = string
  description = "Region of the function, its build, its image repository and its source bucket."
  default     = "us-central1"
}

variable "name" {
  type        = string
  description = "Name of the function (and of its Cloud Run service); also the prefix of the service accounts, the secret, the source bucket and the image repository."
  default     = "geminihook"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,19}[a-z0-9]$", var.name))
    error_message = "name must be 4 to 21 lower-case letters, digits and hyphens, starting with a letter, so that the derived service account ids fit in 30 characters."
  }
}

variable "labels" {
  type        = map(string)
  description = "Labels added to every resource that takes labels (merged over app = \"geminihook\")."
  default     = {}
}

# ---------------------------------------------------------------- function

variable "go_runtime" {
  type        = string
  description = "Cloud Run functions Go runtime id. The default is the newest one (go127, GA since August 2026); it must not be older than the go directive of go.mod (1.26), so go126 is the oldest accepted. The build installs the newest patch release of that Go version."
  default     = "go127"

  validation {
    condition     = can(regex("^go1[0-9]{2}$", var.go_runtime)) && try(tonumber(substr(var.go_runtime, 3, 2)) >= 26, false)
    error_message = "go_runtime must be a Go runtime id such as go126 or go127; go.mod needs Go 1.26 or newer."
  }
}

variable "memory" {
  type        = string
  description = "Memory of one instance (Cloud Run units, e.g. 256Mi, 512Mi, 1Gi). One delivery needs little; 512Mi leaves room for the Firestore and Pub/Sub clients and bursts of concurrent requests."
  default     = "512Mi"
}

variable "cpu" {
  type        = string
  description = "vCPUs of one instance. Concurrency above 1 needs at least one full vCPU."
  default     = "1"
}

variable "max_concurrency" {
  type        = number
  description = "Deliveries one instance serves at once. Each waits mostly on Firestore and Pub/Sub, so one instance handles many."
  default     = 80

  validation {
    condition     = var.max_concurrency >= 1 && var.max_concurrency <= 1000
    error_message = "max_concurrency must be between 1 and 1000."
  }
}

variable "timeout_seconds" {
  type        = number
  description = "Cloud Run request timeout. Must exceed request_timeout_seconds, which bounds one delivery's own work; Gemini itself expects an answer within seconds."
  default     = 30

  validation {
    condition     = var.timeout_seconds > var.request_timeout_seconds && var.timeout_seconds <= 3600
    error_message = "timeout_seconds must be longer than request_timeout_seconds and at most 3600."
  }
}

variable "min_instances" {
  type        = number
  description = "Instances kept warm. 0 costs nothing while idle; a Go cold start takes about a second, well within Gemini's timeout. Set 1 to remove it."
  default     = 0

  validation {
    condition     = var.min_instances >= 0
    error_message = "min_instances must not be negative."
  }
}

variable "max_instances" {
  type        = number
  description = "Upper bound on instances, which also bounds cost under a flood of forged requests."
  default     = 10

  validation {
    condition     = var.max_instances >= 1 && var.max_instances >= var.min_instances
    error_message = "max_instances must be at least 1 and at least min_instances."
  }
}

variable "request_timeout_seconds" {
  type        = number
  description = "REQUEST_TIMEOUT of the receiver: bound on one delivery's claim, publish and mark, and the publisher's retry budget."
  default     = 10

  validation {
    condition     = var.request_timeout_seconds >= 1
    error_message = "request_timeout_seconds must be at least 1."
  }
}

variable "log_level" {
  type        = string
  description = "LOG_LEVEL of the receiver (and of the example subscriber): debug, info, warn or error."
  default     = "info"

  validation {
    condition     = contains(["debug", "info", "warn", "error"], var.log_level)
    error_message = "log_level must be one of debug, info, warn, error."
  }
}

variable "extra_environment_variables" {
  type        = map(string)
  description = "Further environment variables of the receiver, for contract variables this module leaves at their defaults (GEMINI_JWT_AUDIENCE, GEMINI_JWT_ISSUER, GEMINI_JWKS_URL, WEBHOOK_TOLERANCE, MAX_BODY_BYTES). They cannot override a variable the module sets, nor carry a signing secret: GEMINI_WEBHOOK_SECRETS would put the secret in Terraform state."
  default     = {}

  validation {
    condition = length(setintersection(keys(var.extra_environment_variables), [
      "GOOGLE_CLOUD_PROJECT", "PUBSUB_TOPIC", "PUBSUB_ORDERING", "FIRESTORE_DATABASE", "DEDUPE_COLLECTION",
      "DEDUPE_RETENTION", "DEDUPE_LEASE", "REQUEST_TIMEOUT", "LOG_LEVEL", "GEMINI_WEBHOOK_SECRETS_FILE",
      "GEMINI_WEBHOOK_SECRETS", "FIRESTORE_EMULATOR_HOST", "PUBSUB_EMULATOR_HOST", "PORT", "K_SERVICE",
    ])) == 0
    error_message = "extra_environment_variables must not set a variable this module manages, GEMINI_WEBHOOK_SECRETS (secrets go to Secret Manager), an emulator host, PORT or K_SERVICE."
  }
}

# ----------------------------------------------------------------- Firestore

variable "firestore_database" {
  type        = string
  description = "Firestore database that holds the delivery claims (FIRESTORE_DATABASE)."
  default     = "(default)"
}

variable "create_firestore_database" {
  type        = bool
  description = "Create firestore_database (Native mode). Set false to use a database that already exists in the project, e.g. a (default) database created earlier."
  default     = true
}

variable "firestore_location" {
  type        = string
  description = "Location of a created Firestore database (a region such as us-central1, or a multi-region such as nam5). Defaults to region. Ignored when create_firestore_database is false."
  default     = null
}

variable "dedupe_collection" {
  type        = string
  description = "Collection of delivery claims (DEDUPE_COLLECTION); the TTL policy and the index exemptions are set on it."
  default     = "gemini-webhook-deliveries"

  validation {
    condition     = length(var.dedupe_collection) > 0 && !strcontains(var.dedupe_collection, "/") && !startswith(var.dedupe_collection, "__")
    error_message = "dedupe_collection must be a top-level collection id: no slash, not starting with __."
  }
}

variable "dedupe_retention_hours" {
  type        = number
  description = "How long a claim is remembered (DEDUPE_RETENTION); Firestore's TTL policy deletes it some time after that. At least 24, Gemini's retry horizon."
  default     = 72

  validation {
    condition     = var.dedupe_retention_hours >= 24 && floor(var.dedupe_retention_hours) == var.dedupe_retention_hours
    error_message = "dedupe_retention_hours must be a whole number of at least 24."
  }
}

variable "dedupe_lease_seconds" {
  type        = number
  description = "How long a claim in progress holds off other attempts of the same delivery (DEDUPE_LEASE). Must exceed request_timeout_seconds."
  default     = 30

  validation {
    condition     = var.dedupe_lease_seconds > var.request_timeout_seconds
    error_message = "dedupe_lease_seconds must be longer than request_timeout_seconds."
  }
}

# ------------------------------------------------------------------- Pub/Sub

variable "topic_name" {
  type        = string
  description = "Topic the events are published to (PUBSUB_TOPIC). A dead-letter topic named <topic_name>-dead-letter is created next to it."
  default     = "gemini-webhooks"

  validation {
    condition     = can(regex("^[A-Za-z][A-Za-z0-9._~+%-]{2,240}$", var.topic_name)) && !startswith(lower(var.topic_name), "goog")
    error_message = "topic_name must be a Pub/Sub topic id: 3 to 241 characters, starting with a letter, not with goog."
  }
}

variable "topic_message_retention" {
  type        = string
  description = "How long the topic keeps every published event, so that a subscription created later can seek back and replay it. Between 600s and 2678400s (31 days)."
  default     = "604800s"
}

variable "pubsub_ordering" {
  type        = string
  description = "PUBSUB_ORDERING of the receiver: resource publishes with ordering key resource_id, and subscriptions then enable message ordering unless they say otherwise; none does not."
  default     = "none"

  validation {
    condition     = contains(["none", "resource"], var.pubsub_ordering)
    error_message = "pubsub_ordering must be none or resource."
  }
}

variable "subscriptions" {
  type = map(object({
    # Pub/Sub filter on the message attributes; it cannot be changed after
    # the subscription is created (a change replaces the subscription).
    filter = optional(string)
    # Push delivery; a pull subscription when null.
    push_endpoint = optional(string)
    # Service account whose OIDC token authenticates push requests.
    push_service_account_email = optional(string)
    push_audience              = optional(string)
    ack_deadline_seconds       = optional(number, 60)
    message_retention_duration = optional(string, "604800s")
    # Defaults to pubsub_ordering == "resource".
    enable_message_ordering = optional(bool)
    # Messages not acknowledged after max_delivery_attempts go to the
    # dead-letter topic.
    dead_letter           = optional(bool, true)
    max_delivery_attempts = optional(number, 10)
    retry_minimum_backoff = optional(string, "10s")
    retry_maximum_backoff = optional(string, "600s")
  }))
  description = "Subscriptions to the events topic, keyed by subscription name. Each may filter on attributes (event_type, webhook_id, resource_id, ...), push to an endpoint, dead-letter and set its retry backoff. The default has an unfiltered pull subscription, for the walk-through and for debugging, and an example filtered on batch.succeeded."
  default = {
    "gemini-webhooks-all" = {}
    "gemini-webhooks-batch-succeeded" = {
      filter = "attributes.event_type = \"batch.succeeded\""
    }
  }

  validation {
    condition = alltrue([
      for s in values(var.subscriptions) : s.max_delivery_attempts >= 5 && s.max_delivery_attempts <= 100
    ])
    error_message = "max_delivery_attempts must be between 5 and 100."
  }

  validation {
    condition = alltrue([
      for s in values(var.subscriptions) : s.push_service_account_email == null || s.push_endpoint != null
    ])
    error_message = "push_service_account_email needs push_endpoint."
  }
}

# ------------------------------------------------------ example subscriber

variable "deploy_example_subscriber" {
  type        = bool
  description = "Also deploy examples/subscriber: a Cloud Run function triggered by every event on the events topic (through an Eventarc Pub/Sub trigger, with retries), which logs each event and remembers handled webhook ids in subscriber_collection. Off by default: it is an example to copy, and it enables the Eventarc API."
  default     = false
}

variable "subscriber_collection" {
  type        = string
  description = "Collection of the handled webhook ids of the example subscriber (SUBSCRIBER_COLLECTION), in firestore_database; its TTL policy on expire_at is set when deploy_example_subscriber is true. Must differ from dedupe_collection: both name documents after the webhook id."
  default     = "gemini-events-handled"

  validation {
    condition     = length(var.subscriber_collection) > 0 && !strcontains(var.subscriber_collection, "/") && !startswith(var.subscriber_collection, "__")
    error_message = "subscriber_collection must be a top-level collection id: no slash, not starting with __."
  }

  validation {
    condition     = var.subscriber_collection != var.dedupe_collection
    error_message = "subscriber_collection must differ from dedupe_collection: the subscriber's records and the receiver's claims are both named after the webhook id, and would collide."
  }
}

variable "subscriber_max_instances" {
  type        = number
  description = "Upper bound on instances of the example subscriber. Each handles one event at a time; Pub/Sub retries what it cannot take at once."
  default     = 10

  validation {
    condition     = var.subscriber_max_instances >= 1
    error_message = "subscriber_max_instances must be at least 1."
  }
}

# ------------------------------------------------------------------- Gemini

variable "gemini_subscribed_events" {
  type        = list(string)
  description = "Events the webhook registration command (output register_webhook_command) subscribes to."
  default = [
    "batch.succeeded",
    "batch.expired",
    "batch.failed",
    "interaction.requires_action",
    "interaction.completed",
    "interaction.failed",
    "video.generated",
  ]

  validation {
    condition = length(var.gemini_subscribed_events) > 0 && alltrue([
      for e in var.gemini_subscribed_events : contains([
        "batch.succeeded", "batch.expired", "batch.failed", "interaction.requires_action",
        "interaction.completed", "interaction.failed", "video.generated",
      ], e)
    ])
    error_message = "gemini_subscribed_events must list subscribable Gemini events: batch.succeeded, batch.expired, batch.failed, interaction.requires_action, interaction.completed, interaction.failed, video.generated."
  }
}

# ------------------------------------------------------------------ alerting

variable "enable_alerting" {
  type        = bool
  description = "Create an alert policy that fires when rejected or retried deliveries exceed alert_failed_deliveries_threshold in alert_window_seconds, so that the team hears of it before Gemini disables the webhook for failed deliveries."
  default     = true
}

variable "alert_emails" {
  type        = list(string)
  description = "E-mail addresses notified by the alert policy (one notification channel each). Without any, incidents only show in the Cloud console."
  default     = []
}

variable "alert_notification_channels" {
  type        = list(string)
  description = "Existing notification channels (projects/PROJECT/notificationChannels/ID) the alert policy also notifies."
  default     = []
}

variable "alert_failed_deliveries_threshold" {
  type        = number
  description = "The alert fires when more than this many deliveries are rejected (bad header, bad signature, body too large) or answered retry (503, 409) within alert_window_seconds. 405s (not POST) are left out: they are scanners, not Gemini."
  default     = 5

  validation {
    condition     = var.alert_failed_deliveries_threshold >= 0
    error_message = "alert_failed_deliveries_threshold must not be negative."
  }
}

variable "alert_window_seconds" {
  type        = number
  description = "Window over which failed deliveries are counted; a multiple of 60."
  default     = 300

  validation {
    condition     = var.alert_window_seconds >= 60 && var.alert_window_seconds % 60 == 0
    error_message = "alert_window_seconds must be a multiple of 60, at least 60."
  }
}
