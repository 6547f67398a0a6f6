"""The Terraform configuration: format, validation, mocked tests, checkov, and a real
apply / plan / destroy cycle against the local AWS emulator."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from moto.s3.models import s3_backends
from support.aws_emulator import aws_emulator
from support.project import PROJECT_DIR

TERRAFORM_DIR = PROJECT_DIR / "terraform"
TERRAFORM = shutil.which("terraform")
CHECKOV = PROJECT_DIR / ".venv-checkov/bin/checkov"

if TERRAFORM is None:
    if os.environ.get("CI"):
        raise RuntimeError("terraform is not on PATH")
    pytest.skip("terraform is not on PATH", allow_module_level=True)


def terraform(*args: str, cwd: Path, env: dict[str, str] | None = None, check: bool = True):
    result = subprocess.run(
        [TERRAFORM, *args], cwd=cwd, env={**os.environ, "TF_IN_AUTOMATION": "1", "TF_INPUT": "0", **(env or {})},
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    if check and result.returncode != 0:
        raise AssertionError(f"terraform {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def init(workdir: Path) -> None:
    plugin_dir = subprocess.run(
        [PROJECT_DIR / "scripts/terraform-plugin-dir"], capture_output=True, text=True, check=True
    ).stdout.strip()
    terraform("init", "-backend=false", *([f"-plugin-dir={plugin_dir}"] if plugin_dir else []), cwd=workdir)


@pytest.fixture(scope="module")
def initialised(tmp_path_factory) -> Path:
    """A copy of terraform/ (so no .terraform lands in the project), initialised."""
    workdir = tmp_path_factory.mktemp("terraform")
    shutil.copytree(
        TERRAFORM_DIR, workdir, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".terraform", "*.tfstate*")
    )
    init(workdir)
    return workdir


def test_format_is_canonical():
    result = terraform("fmt", "-check", "-recursive", "-diff", cwd=TERRAFORM_DIR, check=False)
    assert result.returncode == 0, result.stdout


def test_init_uses_the_committed_provider_lock(initialised):
    # init writes a lock when none exists and refuses a provider whose checksum the lock lacks.
    assert (initialised / ".terraform.lock.hcl").read_text() == (TERRAFORM_DIR / ".terraform.lock.hcl").read_text()


def test_configuration_is_valid(initialised):
    assert "The configuration is valid" in terraform("validate", "-no-color", cwd=initialised).stdout


def test_mocked_terraform_tests_pass(initialised):
    result = terraform("test", "-no-color", cwd=initialised, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    # Every run of every file ran: both deployments, the cost controls, and each refusal.
    runs = sum(path.read_text().count('\nrun "') for path in (TERRAFORM_DIR / "tests").glob("*.tftest.hcl"))
    assert runs > 40
    assert f"{runs} passed, 0 failed" in result.stdout


def checkov(*args: str) -> dict:
    if not CHECKOV.exists():
        pytest.fail("checkov is missing: `make test` installs it into .venv-checkov")
    result = subprocess.run(
        [CHECKOV, "-d", str(TERRAFORM_DIR), "--framework", "terraform", "--skip-download", "--compact",
         "--output", "json", *args],
        capture_output=True, text=True,
    )  # fmt: skip
    return json.loads(result.stdout)


# checkov scans every resource whatever its count, so each run covers both deployments; the
# var file has it evaluate the variables as a Serverless deployment sets them.
@pytest.mark.parametrize(
    "var_file",
    [pytest.param(None, id="provisioned"), pytest.param(TERRAFORM_DIR / "tests/serverless.tfvars", id="serverless")],
)
def test_checkov_finds_no_failed_check(var_file):
    report = checkov(*(["--var-file", str(var_file)] if var_file else []))
    summary = report["summary"]
    assert summary["failed"] == 0, json.dumps(report["results"]["failed_checks"], indent=1)
    assert summary["passed"] > 20
    checked = {check["resource"].split(".")[0] for check in report["results"]["passed_checks"]}
    checked |= {check["resource"].split(".")[0] for check in report["results"]["skipped_checks"]}
    assert {"aws_redshift_cluster", "aws_redshiftserverless_namespace", "aws_cloudwatch_log_group"} <= checked
    # Every skip carries its reason inline.
    assert all(check["check_result"].get("suppress_comment") for check in report["results"]["skipped_checks"])


EMULATOR_OVERRIDE = """
provider "aws" {{
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  s3_use_path_style           = true
  # A call the emulator lacks must fail at once, not retry for minutes.
  max_retries = 1
  endpoints {{
    ec2      = "{url}"
    iam      = "{url}"
    redshift = "{url}"
    s3       = "{url}"
    sts      = "{url}"
  }}
}}
"""


def test_apply_then_plan_shows_no_changes_then_destroy(tmp_path):
    workdir = tmp_path / "terraform"
    shutil.copytree(TERRAFORM_DIR, workdir, ignore=shutil.ignore_patterns(".terraform", "*.tfstate*", "tests"))
    variables = ["-var", 'allowed_cidr_blocks=["198.51.100.7/32"]', "-no-color"]
    with aws_emulator() as url:
        # The override exists only in this copy: the project's provider block never names the emulator.
        (workdir / "emulator_override.tf").write_text(EMULATOR_OVERRIDE.format(url=url))
        init(workdir)
        aws = {"endpoint_url": url, "region_name": "us-west-2", "aws_access_key_id": "testing",
               "aws_secret_access_key": "testing"}  # fmt: skip

        terraform("apply", "-auto-approve", *variables, cwd=workdir)
        outputs = {
            name: value["value"] for name, value in json.loads(terraform("output", "-json", cwd=workdir).stdout).items()
        }
        assert {"host", "port", "database", "cluster_identifier", "iam_role_arn", "region", "admin_secret_arn",
                "load_bucket", "manifest_location", "deployment", "workgroup_name", "account_id",
                "raw_load_lines", "deployment_shape", "audit_log_location"} <= set(outputs)  # fmt: skip
        # Only the Serverless workgroup's name is empty on a provisioned cluster.
        assert [name for name in outputs if outputs[name] in ("", None)] == ["workgroup_name"]
        assert outputs["deployment"] == "provisioned" and outputs["raw_load_lines"] == "true"
        assert outputs["deployment_shape"] == "provisioned cluster: 1 x ra3.large (single-node); no budget"

        cluster = boto3.client("redshift", **aws).describe_clusters(ClusterIdentifier=outputs["cluster_identifier"])[
            "Clusters"
        ][0]
        assert cluster["Encrypted"] is True and cluster["PubliclyAccessible"] is False
        assert [role["IamRoleArn"] for role in cluster["IamRoles"]] == [outputs["iam_role_arn"]]
        group = boto3.client("ec2", **aws).describe_security_groups(GroupIds=[outputs["security_group_id"]])[
            "SecurityGroups"
        ][0]
        assert [(p["FromPort"], p["ToPort"], [r["CidrIp"] for r in p["IpRanges"]]) for p in group["IpPermissions"]] == [
            (5439, 5439, ["198.51.100.7/32"])
        ]

        # Audit logging is on, to a private bucket of its own that only Redshift may write to.
        audit_bucket = f"{outputs['cluster_identifier']}-audit-123456789012"
        logging = boto3.client("redshift", **aws).describe_logging_status(
            ClusterIdentifier=outputs["cluster_identifier"]
        )
        assert (logging["LoggingEnabled"], logging["BucketName"], logging["S3KeyPrefix"]) == (
            True, audit_bucket, f"redshift-audit/{outputs['cluster_identifier']}/"
        )  # fmt: skip
        assert outputs["audit_log_location"] == f"s3://{audit_bucket}/redshift-audit/{outputs['cluster_identifier']}/"
        s3 = boto3.client("s3", **aws)
        assert all(s3.get_public_access_block(Bucket=audit_bucket)["PublicAccessBlockConfiguration"].values())
        encryption = s3.get_bucket_encryption(Bucket=audit_bucket)["ServerSideEncryptionConfiguration"]["Rules"]
        assert [rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] for rule in encryption] == ["AES256"]
        audit_policy = json.loads(s3.get_bucket_policy(Bucket=audit_bucket)["Policy"])["Statement"]
        assert {json.dumps(s["Principal"]) for s in audit_policy if s["Effect"] == "Allow"} == {
            json.dumps({"Service": "redshift.amazonaws.com"})
        }

        # The manifests go to a private, encrypted bucket of the project's own, where they expire.
        bucket = outputs["load_bucket"]
        assert outputs["manifest_location"] == f"s3://{bucket}/manifests"
        assert bucket == f"{outputs['cluster_identifier']}-load-123456789012"
        assert all(s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"].values())
        encryption = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
        assert [rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] for rule in encryption] == ["aws:kms"]
        expiry = [
            rule["Expiration"]["Days"]
            for rule in s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
            if rule.get("Filter", {}).get("Prefix") == "manifests/" and rule["Status"] == "Enabled"
        ]
        assert expiry == [3]
        policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
        assert [s["Condition"] for s in policy["Statement"] if s["Effect"] == "Deny"] == [
            {"Bool": {"aws:SecureTransport": "false"}}
        ]
        # A load's leftover manifest, which destroy must delete with the bucket (force_destroy).
        # It goes in behind the API: moto applies the bucket policy's Deny without weighing its
        # aws:SecureTransport condition, so it refuses every PutObject.
        s3_backends["123456789012"]["global"].put_object(bucket, "manifests/staging_events.manifest", b"{}")
        assert [obj["Key"] for obj in s3.list_objects_v2(Bucket=bucket)["Contents"]] == [
            "manifests/staging_events.manifest"
        ]

        # The loader's env file is written from these outputs, with no copy-paste and no secret.
        env_file = tmp_path / ".env.redshift"
        subprocess.run(
            [sys.executable, "-m", "sparkify.aws", "env-file", "--terraform-dir", str(workdir), "--out", str(env_file)],
            cwd=PROJECT_DIR, check=True, capture_output=True,
        )  # fmt: skip
        written = dict(line.split("=", 1) for line in env_file.read_text().splitlines() if not line.startswith("#"))
        assert written["SPARKIFY_REDSHIFT_HOST"] == outputs["host"]
        assert written["SPARKIFY_REDSHIFT_CLUSTER_ID"] == outputs["cluster_identifier"]
        assert written["SPARKIFY_REDSHIFT_IAM_ROLE_ARN"] == outputs["iam_role_arn"]
        assert written["SPARKIFY_AWS_REGION"] == "us-west-2"
        assert written["SPARKIFY_MANIFEST_LOCATION"] == outputs["manifest_location"]
        assert written["SPARKIFY_REDSHIFT_DEPLOYMENT"] == "provisioned"
        assert written["SPARKIFY_REDSHIFT_WORKGROUP"] == ""
        assert written["SPARKIFY_AWS_ACCOUNT_ID"] == "123456789012"
        assert written["SPARKIFY_REDSHIFT_RAW_LINES"] == "true"
        assert not any("PASSWORD" in name for name in written)

        replan = terraform("plan", "-detailed-exitcode", *variables, cwd=workdir, check=False)
        assert replan.returncode == 0, "a plan right after apply must show no changes:\n" + replan.stdout

        # A second `make infra-destroy` of a cluster of the same name: the first one's final
        # snapshot is still there, under the name a fixed identifier would reuse.
        redshift = boto3.client("redshift", **aws)
        cluster_id = outputs["cluster_identifier"]
        redshift.create_cluster_snapshot(SnapshotIdentifier=f"{cluster_id}-final", ClusterIdentifier=cluster_id)

        terraform("destroy", "-auto-approve", *variables, cwd=workdir)
        assert redshift.describe_clusters()["Clusters"] == []
        assert not {bucket, audit_bucket} & {b["Name"] for b in s3.list_buckets()["Buckets"]}
        snapshots = [
            s["SnapshotIdentifier"] for s in redshift.describe_cluster_snapshots(SnapshotType="manual")["Snapshots"]
        ]
        assert len(snapshots) == 2 and all(name.startswith(f"{cluster_id}-final") for name in snapshots)
        assert json.loads((workdir / "terraform.tfstate").read_text())["resources"] == []
