provider "aws" {
  region = var.region

  default_tags {
    tags = merge({ Project = "sparkify", ManagedBy = "terraform" }, var.tags)
  }
}
