# Delivery claims: one document per webhook-id in dedupe_collection.

resource "google_firestore_database" "claims" {
  count = var.create_firestore_database ? 1 : 0

  name        = var.firestore_database
  location_id = local.firestore_location
  type        = "FIRESTORE_NATIVE"
  # terraform destroy leaves the database (and any other data in it) alone.
  deletion_policy = "ABANDON"

  depends_on = [time_sleep.services_ready]
}

# expire_at is the claim's expiry (dedupe.TTLField): the TTL policy deletes a
# claim some time (typically within a day) after it. Like the other two
# timestamps below it is never queried, and a single-field index on a
# timestamp that grows with time would only cost writes and hot-spot, so
# each is exempt from single-field indexing (an empty index_config).
resource "google_firestore_field" "expire_at" {
  project    = var.project_id
  database   = var.firestore_database
  collection = var.dedupe_collection
  field      = "expire_at"

  ttl_config {}
  index_config {}

  depends_on = [time_sleep.services_ready, google_firestore_database.claims]
}

resource "google_firestore_field" "received_at" {
  project    = var.project_id
  database   = var.firestore_database
  collection = var.dedupe_collection
  field      = "received_at"

  index_config {}

  # Field operations of one collection are applied one at a time.
  depends_on = [google_firestore_field.expire_at]
}

resource "google_firestore_field" "lease_until" {
  project    = var.project_id
  database   = var.firestore_database
  collection = var.dedupe_collection
  field      = "lease_until"

  index_config {}

  depends_on = [google_firestore_field.received_at]
}

# The example subscriber's handled webhook ids (deploy_example_subscriber):
# one document per id in subscriber_collection, with the same kind of expiry
# (examples/subscriber/firestore.go writes expire_at, 7 days after
# handled_at). Neither timestamp is queried: both are exempt from
# single-field indexing, like the claims' timestamps above.
resource "google_firestore_field" "subscriber_expire_at" {
  count = var.deploy_example_subscriber ? 1 : 0

  project    = var.project_id
  database   = var.firestore_database
  collection = var.subscriber_collection
  field      = "expire_at"

  ttl_config {}
  index_config {}

  # One field operation at a time in the database, after the claims'.
  depends_on = [google_firestore_field.lease_until]
}

resource "google_firestore_field" "subscriber_handled_at" {
  count = var.deploy_example_subscriber ? 1 : 0

  project    = var.project_id
  database   = var.firestore_database
  collection = var.subscriber_collection
  field      = "handled_at"

  index_config {}

  depends_on = [google_firestore_field.subscriber_expire_at]
}
