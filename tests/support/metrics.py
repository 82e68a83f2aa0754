"""Reading `/healthz` and `/metrics` over real HTTP, and checking that no label names anyone."""

from __future__ import annotations

import re
from typing import Any

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from core.metrics import LABELS
from sandbox import SandboxDriver

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def healthz(port: int) -> tuple[int, dict[str, Any]]:
    """GET /healthz on 127.0.0.1:``port``: the status code and the JSON body."""
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{port}/healthz") as answer,
    ):
        body: dict[str, Any] = await answer.json()
        return answer.status, body


async def wait_serving(driver: SandboxDriver, port: int) -> dict[str, Any]:
    """Wait until a bot process answers /healthz with 200 (it binds its port late in start-up)."""

    async def up() -> dict[str, Any] | None:
        try:
            status, body = await healthz(port)
        except OSError:  # not listening yet
            return None
        return body if status == 200 else None

    body: dict[str, Any] = await driver.wait_for(up, timeout=60, what=f"/healthz on {port}")
    return body


async def scrape(port: int) -> Samples:
    """GET /metrics on 127.0.0.1:``port``, parsed as Prometheus parses it."""
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{port}/metrics") as answer,
    ):
        assert answer.status == 200
        assert answer.headers["Content-Type"].startswith("text/plain")
        text = await answer.text()
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sample's value (0 when the series does not exist yet)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum over every series of ``name`` whose labels include ``labels``."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= ls)


# A label value is a code name: letters, dots, dashes, colons and spaces (job names);
# bucket bounds (`le`) are numbers by design and carry no identity.
_CODE_NAME = re.compile(r"[a-z_][a-z_.: -]*")


def assert_anonymous(samples: Samples, *identities: int | str) -> None:
    """Every label is one of ours with a code-name value, and no identity appears anywhere."""
    for name, labels in samples:
        for label, text in labels:
            if label == "le":
                continue
            assert label in LABELS, f"{name} has an unexpected label {label!r}"
            assert _CODE_NAME.fullmatch(text), f"{name}{{{label}={text!r}}} is not a code name"
            for identity in identities:
                assert str(identity) not in text, f"{name} names {identity!r}"
