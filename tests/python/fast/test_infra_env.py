"""`make infra-env`: the Terraform outputs of either deployment as .env.redshift, and what the
dbt profile's `redshift` target makes of that file: the connection dbt-redshift would open, for
a provisioned cluster, for a Serverless workgroup, and for the Redshift double's environment."""

from __future__ import annotations

import json
import os
from argparse import Namespace

import pytest
import yaml
from support.project import PROJECT_DIR

from sparkify import aws

PROVISIONED = {
    "deployment": "provisioned",
    "host": "sparkify.abc123xyz789.us-west-2.redshift.amazonaws.com",
    "port": 5439,
    "database": "sparkify",
    "cluster_identifier": "sparkify",
    "workgroup_name": "",
    "account_id": "123456789012",
    "admin_username": "sparkify_admin",
    "iam_role_arn": "arn:aws:iam::123456789012:role/sparkify-redshift-s3-read",
    "region": "us-west-2",
    "admin_secret_arn": "arn:aws:secretsmanager:us-west-2:123456789012:secret:redshift!sparkify-AbCdEf",
    "manifest_location": "s3://sparkify-load-123456789012/manifests",
    "raw_load_lines": "true",
    # Not written: the env file holds what the loader and dbt read.
    "deployment_shape": "provisioned cluster: 1 x ra3.large (single-node); no budget",
}
SERVERLESS = PROVISIONED | {
    "deployment": "serverless",
    "host": "sparkify.123456789012.us-west-2.redshift-serverless.amazonaws.com",
    "cluster_identifier": "",
    "workgroup_name": "sparkify",
    "admin_secret_arn": "arn:aws:secretsmanager:us-west-2:123456789012:secret:redshift!sparkify-admin-AbCdEf",
    "raw_load_lines": "false",
    "deployment_shape": "serverless workgroup: 8-32 RPU; at most 24 RPU-hours a day (deactivate); no budget",
}


def env_file(outputs: dict) -> dict[str, str]:
    text = aws.env_file_text(outputs)
    return dict(line.split("=", 1) for line in text.splitlines() if not line.startswith("#"))


def test_the_env_file_has_every_variable_for_a_provisioned_cluster():
    written = env_file(PROVISIONED)
    assert list(written) == list(aws.ENV_FROM_OUTPUT.values())
    assert written["SPARKIFY_REDSHIFT_DEPLOYMENT"] == "provisioned"
    assert written["SPARKIFY_REDSHIFT_CLUSTER_ID"] == "sparkify"
    assert written["SPARKIFY_REDSHIFT_WORKGROUP"] == ""
    assert written["SPARKIFY_REDSHIFT_RAW_LINES"] == "true"
    assert written["SPARKIFY_REDSHIFT_PORT"] == "5439"


def test_the_env_file_has_every_variable_for_serverless_the_cluster_id_empty():
    written = env_file(SERVERLESS)
    assert list(written) == list(aws.ENV_FROM_OUTPUT.values())
    assert written["SPARKIFY_REDSHIFT_DEPLOYMENT"] == "serverless"
    assert written["SPARKIFY_REDSHIFT_CLUSTER_ID"] == ""
    assert written["SPARKIFY_REDSHIFT_WORKGROUP"] == "sparkify"
    assert written["SPARKIFY_AWS_ACCOUNT_ID"] == "123456789012"
    # Serverless has no STL_LOAD_ERRORS: the load must not join it.
    assert written["SPARKIFY_REDSHIFT_RAW_LINES"] == "false"


def test_the_env_file_spells_booleans_and_nulls_as_the_load_reads_them():
    written = env_file(PROVISIONED | {"raw_load_lines": False, "workgroup_name": None})
    assert written["SPARKIFY_REDSHIFT_RAW_LINES"] == "false"
    assert written["SPARKIFY_REDSHIFT_WORKGROUP"] == ""


def test_a_missing_output_says_to_apply_first(tmp_path, monkeypatch):
    outputs = {name: {"value": value} for name, value in PROVISIONED.items() if name != "workgroup_name"}

    class Completed:
        stdout = json.dumps(outputs)

    monkeypatch.setattr(aws.subprocess, "run", lambda *args, **kwargs: Completed())
    with pytest.raises(aws.AwsSetupError, match="workgroup_name are missing: run `make infra-apply` first"):
        aws.terraform_outputs(tmp_path)


def connection_kwargs(env: dict[str, str], monkeypatch) -> dict:
    """The keyword arguments dbt-redshift passes to redshift_connector.connect for the
    profile's `redshift` target in env, without connecting."""
    import dbt.flags
    import redshift_connector
    from dbt.adapters.redshift.connections import get_connection_method
    from dbt.config.profile import Profile
    from dbt.config.renderer import ProfileRenderer
    from dbt_common.context import set_invocation_context

    # What a dbt command would have set before reading the profile.
    monkeypatch.setattr(dbt.flags, "GLOBAL_FLAGS", Namespace(USE_COLORS=False, LOG_CACHE_EVENTS=False))
    set_invocation_context(env)
    try:
        raw = yaml.safe_load((PROJECT_DIR / "profiles.example.yml").read_text())
        profile = Profile.from_raw_profiles(raw, "sparkify", ProfileRenderer({}), target_override="redshift")
    finally:
        set_invocation_context(dict(os.environ))
    captured = {}

    class Connection:
        autocommit = False

    monkeypatch.setattr(redshift_connector, "connect", lambda **kwargs: captured.update(kwargs) or Connection())
    get_connection_method(profile.credentials)()
    return captured


# What the Redshift double's tests export (tests/python/support/redshift.py): written before
# Serverless, without its variables.
DOUBLE_ENV = {
    "SPARKIFY_REDSHIFT_HOST": "sparkify.double.invalid",
    "SPARKIFY_REDSHIFT_PORT": "5439",
    "SPARKIFY_REDSHIFT_DATABASE": "sparkify",
    "SPARKIFY_REDSHIFT_CLUSTER_ID": "sparkify",
    "SPARKIFY_REDSHIFT_USER": "sparkify_admin",
    "SPARKIFY_AWS_REGION": "us-west-2",
}


def test_the_profile_connects_to_a_provisioned_cluster_with_its_credentials(monkeypatch):
    kwargs = connection_kwargs(env_file(PROVISIONED), monkeypatch)
    assert kwargs["iam"] is True and kwargs["is_serverless"] is False
    assert (kwargs["cluster_identifier"], kwargs["db_user"]) == ("sparkify", "sparkify_admin")
    assert kwargs["serverless_work_group"] is None
    assert (kwargs["host"], kwargs["port"], kwargs["database"]) == (PROVISIONED["host"], 5439, "sparkify")
    assert kwargs["sslmode"] == "verify-full"


def test_the_profile_connects_to_a_serverless_workgroup_without_a_cluster(monkeypatch):
    kwargs = connection_kwargs(env_file(SERVERLESS), monkeypatch)
    assert kwargs["iam"] is True and kwargs["is_serverless"] is True
    assert kwargs["cluster_identifier"] is None
    assert (kwargs["serverless_work_group"], kwargs["serverless_acct_id"]) == ("sparkify", "123456789012")
    assert (kwargs["host"], kwargs["region"], kwargs["database"]) == (SERVERLESS["host"], "us-west-2", "sparkify")
    assert kwargs["sslmode"] == "verify-full"


def test_the_profile_still_reads_the_environment_of_the_redshift_double(monkeypatch):
    kwargs = connection_kwargs(DOUBLE_ENV, monkeypatch)
    assert kwargs["is_serverless"] is False and kwargs["cluster_identifier"] == "sparkify"
    assert kwargs["host"] == "sparkify.double.invalid"
