"""boto3 and Terraform glue for the Redshift path.

    python -m sparkify.aws env-file [--out .env.redshift]

writes the Terraform outputs as the environment that `make load` and the dbt profile read.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

TERRAFORM_DIR = Path(__file__).resolve().parents[1] / "terraform"

# Terraform output -> environment variable read by profiles.example.yml and the load.
ENV_FROM_OUTPUT = {
    "host": "SPARKIFY_REDSHIFT_HOST",
    "port": "SPARKIFY_REDSHIFT_PORT",
    "database": "SPARKIFY_REDSHIFT_DATABASE",
    "cluster_identifier": "SPARKIFY_REDSHIFT_CLUSTER_ID",
    "admin_username": "SPARKIFY_REDSHIFT_USER",
    "iam_role_arn": "SPARKIFY_REDSHIFT_IAM_ROLE_ARN",
    "region": "SPARKIFY_AWS_REGION",
    "admin_secret_arn": "SPARKIFY_REDSHIFT_SECRET_ARN",
}


class AwsSetupError(RuntimeError):
    """A problem the user can fix, with a message that says how."""


def terraform_outputs(terraform_dir: Path = TERRAFORM_DIR) -> dict[str, object]:
    """The values of `terraform output -json` in terraform_dir."""
    try:
        result = subprocess.run(
            ["terraform", f"-chdir={terraform_dir}", "output", "-json"], capture_output=True, text=True, check=True
        )
    except FileNotFoundError as error:
        raise AwsSetupError("terraform is not on PATH") from error
    except subprocess.CalledProcessError as error:
        raise AwsSetupError(f"terraform output failed: {error.stderr.strip()}") from error
    outputs = {name: entry["value"] for name, entry in json.loads(result.stdout or "{}").items()}
    missing = sorted(set(ENV_FROM_OUTPUT) - set(outputs))
    if missing:
        raise AwsSetupError(f"Terraform outputs {', '.join(missing)} are missing: run `make infra-apply` first")
    return outputs


def env_file_text(outputs: dict[str, object]) -> str:
    lines = ["# Written by `make infra-env` from the Terraform outputs. Holds no secret: dbt uses IAM auth."]
    lines += [f"{variable}={outputs[output]}" for output, variable in ENV_FROM_OUTPUT.items()]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sparkify.aws", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    env_file = commands.add_parser("env-file", help="write the Terraform outputs as an env file")
    env_file.add_argument(
        "--out", type=Path, default=Path(".env.redshift"), help="file to write (default: %(default)s)"
    )
    env_file.add_argument("--terraform-dir", type=Path, default=TERRAFORM_DIR, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        if args.command == "env-file":
            args.out.write_text(env_file_text(terraform_outputs(args.terraform_dir)))
            print(f"Wrote {args.out}: `make load TARGET=redshift` and dbt read it.")
    except AwsSetupError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
