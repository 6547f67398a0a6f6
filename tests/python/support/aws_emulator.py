"""A local AWS emulator for the tests: moto in server mode on loopback.

moto emulates S3, IAM, EC2 and STS well enough for Terraform's AWS provider, but not all of
Redshift. `patch_redshift` adds the little the provider needs, and nothing else:

* ModifyClusterParameterGroup, which moto lacks: the provider sets parameters with it;
* DescribeClusterParameters honouring Source=user, so the provider reads back what it set;
* the cluster fields that the provider's waiters and reads check, which moto leaves empty
  (availability and relocation status, Multi-AZ), drops from CreateCluster (default IAM role,
  maintenance track, manual snapshot retention, the managed password's secret) or spells
  otherwise than AWS (the maintenance window in lower case). Without them the provider
  fails or plans a change right after apply.

The patch is pinned to the moto version it was written against: a new moto may need less.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager

import boto3
import moto
from moto.core.responses import ActionResult
from moto.redshift import responses
from moto.server import ThreadedMotoServer

from sparkify.serve import free_port

PATCHED_MOTO_VERSION = "5.2.5"


def patch_redshift() -> None:
    if moto.__version__ != PATCHED_MOTO_VERSION:
        raise RuntimeError(
            f"aws_emulator patches moto {PATCHED_MOTO_VERSION}, found {moto.__version__}: recheck the patch"
        )

    def user_parameters(group) -> dict[str, str]:
        if not hasattr(group, "user_parameters"):
            group.user_parameters = {}
        return group.user_parameters

    def modify_cluster_parameter_group(self) -> ActionResult:
        name = self._get_param("ParameterGroupName")
        group = self.redshift_backend.describe_cluster_parameter_groups(name)[0]
        for parameter in self._get_param("Parameters", []):
            user_parameters(group)[parameter["ParameterName"]] = parameter["ParameterValue"]
        return ActionResult(
            {"ParameterGroupName": name, "ParameterGroupStatus": "Your parameter group has been updated."}
        )

    def describe_cluster_parameters(self) -> ActionResult:
        name = self._get_param("ParameterGroupName")
        group = self.redshift_backend.describe_cluster_parameter_groups(name)[0]
        overrides = user_parameters(group)
        parameters = [
            {**parameter, "ParameterValue": overrides[parameter["ParameterName"]], "Source": "user"}
            if parameter["ParameterName"] in overrides
            else parameter
            for parameter in self.redshift_backend.describe_default_cluster_parameters()
        ]
        source = self._get_param("Source")
        return ActionResult({"Parameters": [p for p in parameters if source in (None, p["Source"])]})

    responses.RedshiftResponse.modify_cluster_parameter_group = modify_cluster_parameter_group
    responses.RedshiftResponse.describe_cluster_parameters = describe_cluster_parameters

    original_create_cluster = responses.RedshiftResponse.create_cluster

    def create_cluster(self) -> ActionResult:
        result = original_create_cluster(self)
        cluster = self.redshift_backend.clusters[self._get_param("ClusterIdentifier")]
        cluster.cluster_availability_status = "Available"
        cluster.availability_zone_relocation_status = "disabled"
        cluster.multi_az = "Disabled"
        cluster.preferred_maintenance_window = cluster.preferred_maintenance_window.lower()
        cluster.default_iam_role_arn = self._get_param("DefaultIamRoleArn")
        cluster.maintenance_track_name = self._get_param("MaintenanceTrackName") or "current"
        cluster.manual_snapshot_retention_period = self._get_int_param("ManualSnapshotRetentionPeriod", -1)
        if self._get_bool_param("ManageMasterPassword", False):
            secret = f"secret:redshift!{cluster.cluster_identifier}"
            cluster.master_password_secret_arn = f"arn:aws:secretsmanager:{self.region}:{self.current_account}:{secret}"
        return result

    responses.RedshiftResponse.create_cluster = create_cluster


@contextmanager
def aws_emulator() -> Iterator[str]:
    """Run the patched emulator on a free loopback port; yields its endpoint URL."""
    patch_redshift()
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


# Dummy credentials: the emulator checks none, and no real AWS may be reached.
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def emulator_env(endpoint: str, region: str) -> dict[str, str]:
    """What a process needs to reach the emulator in a region, and nothing else: no real AWS."""
    return {**CREDENTIALS, "AWS_REGION": region, "AWS_ENDPOINT_URL_S3": endpoint, "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull}  # fmt: skip


def emulated_s3(endpoint: str, region: str):
    """A boto3 S3 client on the emulator, in a region."""
    return boto3.client("s3", endpoint_url=endpoint, region_name=region,
                        **{name.lower(): value for name, value in CREDENTIALS.items()})  # fmt: skip


def bucket_slug(test_id: str) -> str:
    """A test's name as a bucket name may hold it, with a digest of its whole id: parametrised
    tests, and tests of one name in two modules, each get their own buckets."""
    digest = hashlib.md5(test_id.encode()).hexdigest()[:6]
    return re.sub(r"[^a-z0-9]+", "-", test_id.rsplit("::", 1)[-1].lower())[:40].strip("-") + "-" + digest
