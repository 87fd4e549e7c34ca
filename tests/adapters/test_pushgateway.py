import urllib.request

import pytest

from reliability.adapters.pushgateway import PushFailed, PushgatewayConfig, push_metrics
from reliability.core.outcome import Metric
from stack.processes import free_port


def gateway_metrics(url: str) -> str:
    return urllib.request.urlopen(f"{url}/metrics", timeout=5).read().decode()


def test_pushed_values_are_read_back_from_the_gateway(pushgateway):
    config = PushgatewayConfig(pushgateway.url)
    push_metrics(
        config,
        "backup_verify",
        {"database": "adapters_test"},
        [
            Metric("backup_size_bytes", 123456789.0),
            Metric("checksum_objects", 3, {"result": "ok"}),
            Metric("checksum_objects", 1, {"result": "mismatch"}),
        ],
    )
    text = gateway_metrics(pushgateway.url)
    assert (
        'backup_size_bytes{database="adapters_test",instance="",job="backup_verify"} 1.23456789e+08' in text
    )
    assert (
        'checksum_objects{database="adapters_test",instance="",job="backup_verify",result="mismatch"} 1'
        in text
    )


def test_a_later_push_keeps_metrics_it_does_not_carry(pushgateway):
    config = PushgatewayConfig(pushgateway.url)
    group = {"database": "keep_test"}
    push_metrics(
        config,
        "backup_verify",
        group,
        [
            Metric("reliability_job_last_success_timestamp_seconds", 1000),
            Metric("reliability_job_success", 1),
        ],
    )
    push_metrics(config, "backup_verify", group, [Metric("reliability_job_success", 0)])
    text = gateway_metrics(pushgateway.url)
    assert (
        'reliability_job_last_success_timestamp_seconds{database="keep_test",instance="",job="backup_verify"} 1000'
        in text
    )
    assert 'reliability_job_success{database="keep_test",instance="",job="backup_verify"} 0' in text


def test_unreachable_gateway_gives_a_clear_failure_without_credentials():
    config = PushgatewayConfig(
        f"http://127.0.0.1:{free_port()}",
        username="ops",
        password="s3cret-pw",
        attempts=2,
        backoff_seconds=0.01,
        timeout=1,
    )
    with pytest.raises(PushFailed) as info:
        push_metrics(config, "restore_test", {}, [Metric("restore_success", 1)])
    message = str(info.value)
    assert "after 2 attempts" in message and "restore_test" in message
    assert "s3cret-pw" not in message and "s3cret-pw" not in repr(config)


def test_basic_auth_is_sent(pushgateway):
    # The Debian gateway runs without auth, so it accepts the header; what matters is that the push works
    # through the basic-auth handler.
    push_metrics(
        PushgatewayConfig(pushgateway.url, username="u", password="p"),
        "auth_test",
        {},
        [Metric("restore_success", 1)],
    )
    assert 'restore_success{instance="",job="auth_test"} 1' in gateway_metrics(pushgateway.url)
