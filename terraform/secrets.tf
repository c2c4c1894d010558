# The static signing secrets of the webhook. Terraform creates the secret and
# a placeholder version; the real value never passes through Terraform. The
# output register_webhook_command stores the secret Gemini returns, and the
# rotation steps in README.md add the next versions.

resource "google_secret_manager_secret" "signing" {
  secret_id = local.secret_id

  replication {
    auto {}
  }

  depends_on = [time_sleep.services_ready]
}

# Cloud Run refuses to deploy a function whose mounted "latest" version does
# not exist, and the secret Gemini returns only exists once the function's
# URL is registered. This first version holds no secret (a lone newline:
# an empty list of secrets), so the receiver starts, and refuses every static
# delivery (Gemini retries them) until the registration stores the real secret
# as a newer version.
# It is write-only: not even this placeholder is kept in state.
#
# Disabling this version later is fine, but never destroy it: Terraform would
# create it again, as the newest version, hiding the real secrets from every
# instance that starts afterwards.
resource "google_secret_manager_secret_version" "placeholder" {
  secret                 = google_secret_manager_secret.signing.id
  secret_data_wo         = "\n"
  secret_data_wo_version = 1

  lifecycle {
    ignore_changes = [enabled]
  }
}
