"""What a person is told when the daily run goes wrong: one message per failure, in Slack's
incoming-webhook format, through the Airflow connection ``sparkify_alerts``.

The connection is of type ``slackwebhook``; its password is the webhook's URL (or its token, with
the host left as Slack's). Without the connection, a message goes to the task's log only, and the
log says so once. docs/orchestration.md shows how to add it.

Not a DAG: .airflowignore keeps the scheduler from parsing this file; the DAG imports it.
"""

from __future__ import annotations

import functools
import json
import logging
from datetime import datetime
from pathlib import Path

from airflow.sdk.exceptions import AirflowNotFoundException

CONNECTION_ID = "sparkify_alerts"
# dbt's statuses of a node that failed, in run_results.json and sources.json.
FAILED = {"fail", "error", "runtime error"}

log = logging.getLogger(__name__)


@functools.cache
def say_once_that_alerts_stay_in_the_log() -> None:
    log.warning("No Airflow connection %r: alerts go to the task log only (docs/orchestration.md)", CONNECTION_ID)


def send(text: str) -> None:
    """Post the message to the webhook; without the connection, to the log."""
    # Imported here, when there is something to send: every task parses the DAG, which imports
    # this module, and the Slack provider's import (aiohttp, slack_sdk) cost each task 0.3 s.
    from airflow.providers.slack.hooks.slack_webhook import SlackWebhookHook

    try:
        SlackWebhookHook(slack_webhook_conn_id=CONNECTION_ID).send_text(text)
    except AirflowNotFoundException:
        say_once_that_alerts_stay_in_the_log()
        log.error("Sparkify alert: %s", text)
    except Exception as error:  # noqa: BLE001 - a webhook that fails must not fail the task it reports on
        log.error("Sparkify alert not sent (%s): %s", error, text)


def where(context) -> str:
    """The DAG, the run and the task of a callback's context, and a link to the task's log."""
    task_instance = context["task_instance"]
    return (
        f"dag={context['dag'].dag_id} task={task_instance.task_id} run={context['run_id']} "
        f"<{task_instance.log_url}|log>"
    )


def failed_nodes(run_results: Path, since: datetime) -> list[str]:
    """Each dbt node that failed in the build that wrote run_results.json, if it was written
    since the given time (else it is an earlier build's): a test with its number of failing
    rows, anything else with dbt's first line about it."""
    if not run_results.is_file() or run_results.stat().st_mtime < since.timestamp():
        return []
    failed = [result for result in json.loads(run_results.read_text())["results"] if result["status"] in FAILED]
    return [
        f"dbt {result['unique_id'].split('.')[0]} {result['unique_id'].split('.')[2]}: "
        + (
            f"{result['failures']:,} failing rows"
            if result.get("failures")
            else (result.get("message") or result["status"]).strip().splitlines()[0]
        )
        for result in failed
    ]


def stale_sources(sources: Path, status: str) -> list[str]:
    """Each source of sources.json (`dbt source freshness`) with this status: how old its newest
    row is, against the age that status starts at."""
    results = json.loads(sources.read_text())["results"] if sources.is_file() else []
    threshold = "error_after" if status == "error" else "warn_after"
    return [
        f"source {result['unique_id'].split('.', 2)[2]}: newest row {result['max_loaded_at'][:16]} UTC, "
        f"{result['max_loaded_at_time_ago_in_s'] / 3600:,.0f} hours old "
        f"({status} after {result['criteria'][threshold]['count']} {result['criteria'][threshold]['period']}s)"
        for result in results
        if result["status"] == status
    ]
