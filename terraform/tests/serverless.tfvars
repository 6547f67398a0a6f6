# The Serverless deployment, for checkov (`checkov --var-file`): `terraform test` sets its
# variables in serverless.tftest.hcl, and nothing else loads this file.
deployment          = "serverless"
allowed_cidr_blocks = ["203.0.113.10/32"]
