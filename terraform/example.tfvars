# Copy to terraform.tfvars (ignored by git) and adjust; only project_id is
# required. Never put a signing secret here: secrets go to Secret Manager.
project_id = "my-project-id"
region     = "us-central1"

# Use a Firestore (default) database that already exists in the project:
# create_firestore_database = false

# Be told by e-mail when deliveries fail:
# alert_emails = ["oncall@example.com"]

# Subscriptions to the events topic, one per consumer:
# subscriptions = {
#   "gemini-webhooks-all" = {}
#   "batch-results" = {
#     filter        = "attributes.event_type = \"batch.succeeded\""
#     push_endpoint = "https://batch-results.example.com/pubsub"
#   }
# }

# Also deploy examples/subscriber, triggered by every event on the topic:
# deploy_example_subscriber = true
