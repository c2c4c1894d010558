terraform {
  # 1.11 is the first release with write-only arguments, which the
  # placeholder secret version uses so that no secret payload is ever
  # stored in state.
  required_version = ">= 1.11.0"

  required_providers {
    google = {
      source = "hashicorp/google"
      # 6.23 added secret_data_wo to google_secret_manager_secret_version;
      # every other argument used here exists in 6.0. The 6.x line is the
      # supported target; see README.md for moving to 7.x.
      version = "~> 6.23"
    }
    archive = {
      source = "hashicorp/archive"
      # 2.5 added glob patterns to archive_file's excludes.
      version = "~> 2.5"
    }
    time = {
      source  = "hashicorp/time"
      version = "~> 0.12"
    }
  }
}

provider "google" {
  project        = var.project_id
  region         = var.region
  default_labels = merge({ app = "geminihook" }, var.labels)
}
