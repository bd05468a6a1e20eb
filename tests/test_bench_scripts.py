"""The benchmark scripts' safety rule and arithmetic (pure functions; no server, no clock)."""

from __future__ import annotations

import math

import pytest

from bench.common import NotLoopback, check_loopback, percentile


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:7860", "http://127.8.9.10:80/", "http://localhost:7871", "http://[::1]:7860", "https://127.0.0.1"],
)
def test_loopback_urls_are_accepted(url: str) -> None:
    assert check_loopback(url) == url.rstrip("/")


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1:7860",
        "http://192.168.1.5",
        "http://example.com",
        "http://localhost.example.com",
        "http://127.0.0.1.nip.io",
        "http://[::2]:7860",
        "http://0.0.0.0:7860",
        "ftp://127.0.0.1",
        "127.0.0.1:7860",
        "http://:7860",
    ],
)
def test_other_hosts_are_refused(url: str) -> None:
    with pytest.raises(NotLoopback):
        check_loopback(url)


def test_percentile_is_a_value_some_request_had() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.5) in values
    assert percentile(values, 0.95) == 95.0
    assert percentile(values, 1.0) == 100.0
    assert percentile([3.0], 0.95) == 3.0
    assert math.isnan(percentile([], 0.5))
