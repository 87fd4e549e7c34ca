"""The fake UptimeRobot (one server for the session, reset for each test) and the SLA config."""

from __future__ import annotations

import pytest

from reliability.sla.config import load_config
from reliability.sla.mapping import mapping_from_config
from stack.fake_uptimerobot import FakeUptimeRobot, generate_dataset
from tests.sla.support import API_KEY, NOW, TENANTS


@pytest.fixture(scope="session")
def dataset():
    return generate_dataset(TENANTS, seed=11, now=int(NOW.timestamp()))


@pytest.fixture(scope="session")
def fake_server(dataset):
    fake = FakeUptimeRobot(dataset, API_KEY).start()
    yield fake
    fake.stop()


@pytest.fixture
def fake(fake_server):
    """The session's fake UptimeRobot with no scripted faults, default limits and no recorded requests."""
    fake_server.reset()
    yield fake_server
    fake_server.reset()


@pytest.fixture(scope="session")
def config():
    return load_config()


@pytest.fixture(scope="session")
def mapping(config):
    return mapping_from_config(config, {t["slug"]: t["plan"] for t in TENANTS})
