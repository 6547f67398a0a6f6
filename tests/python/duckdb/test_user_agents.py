"""user_agents parses agents in SQL; ua-parser (PyPI) is the reference. Every distinct agent
of the real sample and of the generator's output must get ua-parser's browser and OS family,
and the versions it reads."""

from __future__ import annotations

import subprocess

import pytest
import ua_parser
from support.project import BIN
from support.warehouse import make_warehouse

MOBILE_DEVICES = {"iPhone", "iPod"}
TABLET_DEVICES = {"iPad"}


def parsed_agents(warehouse, location) -> dict[str, tuple]:
    warehouse.load(location)
    warehouse.dbt("run", "--full-refresh", "--select", "stg_sparkify__events", "user_agents")
    rows = warehouse.query(
        "select user_agent, browser, browser_version, os, os_version, device_type from analytics.user_agents"
    )
    assert rows, f"no user agent in {location}"
    assert {row[0] for row in rows} == {
        agent
        for (agent,) in warehouse.query(
            "select distinct user_agent from analytics_staging.stg_sparkify__events where user_agent is not null"
        )
    }
    return {row[0]: row[1:] for row in rows}


@pytest.fixture(scope="module")
def agents(tmp_path_factory, real_sample) -> dict[str, tuple]:
    """The parsed agents of the real sample and of a small generated dataset."""
    warehouse = make_warehouse(tmp_path_factory.mktemp("agents"))
    generated = tmp_path_factory.mktemp("generated")
    subprocess.run(
        [str(BIN / "python"), "-m", "sparkify.generate", "--out", str(generated), "--users", "40", "--days", "3"],
        check=True, capture_output=True, env=warehouse.env,
    )  # fmt: skip
    return {**parsed_agents(warehouse, real_sample), **parsed_agents(warehouse, generated)}


def dotted(*parts) -> str | None:
    present = [part for part in parts if part is not None]
    return ".".join(present) or None


def test_browser_and_os_families_match_ua_parser(agents):
    mismatches = {}
    for agent, (browser, _, os, _, _) in agents.items():
        reference = ua_parser.parse(agent)
        expected = (reference.user_agent.family, reference.os.family)
        if (browser, os) != expected:
            mismatches[agent] = ((browser, os), expected)
    assert mismatches == {}


def test_versions_match_ua_parser(agents):
    mismatches = {}
    for agent, (_, browser_version, _, os_version, _) in agents.items():
        reference = ua_parser.parse(agent)
        ua, os = reference.user_agent, reference.os
        expected_browser = dotted(ua.major, ua.minor, ua.patch, ua.patch_minor)
        expected_os = dotted(os.major, os.minor, os.patch, os.patch_minor)
        # ua-parser stops at the parts it knows; the agent may write more (Safari/7.0.6 vs 7.0).
        browser_ok = browser_version == expected_browser or (browser_version or "").startswith(f"{expected_browser}.")
        if not browser_ok or os_version != expected_os:
            mismatches[agent] = ((browser_version, os_version), (expected_browser, expected_os))
    assert mismatches == {}


def test_device_type_follows_ua_parser_device(agents):
    for agent, (*_, device_type) in agents.items():
        device = ua_parser.parse(agent).device
        family = device.family if device else None
        expected = "mobile" if family in MOBILE_DEVICES else "tablet" if family in TABLET_DEVICES else "desktop"
        assert device_type == expected, agent


def test_the_generator_and_the_sample_bring_several_families(agents):
    assert len({browser for browser, *_ in agents.values()}) >= 5
    # Both kinds of device, or the device test above proves little.
    assert {"mobile", "desktop"} <= {device_type for *_, device_type in agents.values()}
