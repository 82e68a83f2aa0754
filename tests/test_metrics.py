"""The metrics registry: one per Application, labels from the code, the update's feature."""

from __future__ import annotations

from prometheus_client import REGISTRY, generate_latest

from core.metrics import GUARDS, UNHANDLED, Metrics


def test_two_bots_in_one_process_count_apart() -> None:
    first, second = Metrics(), Metrics()  # a shared registry would refuse the second
    first.delivered("sent")
    first.delivered("sent")
    second.delivered("blocked")
    assert b'union_bot_deliveries_total{outcome="sent"} 2.0' in first.exposition()
    assert b"blocked" not in first.exposition()
    assert b'union_bot_deliveries_total{outcome="blocked"} 1.0' in second.exposition()
    assert b"union_bot_" not in generate_latest(REGISTRY)  # nothing on the global default


def test_an_update_is_counted_under_the_feature_that_answered() -> None:
    metrics = Metrics()
    for key, features in enumerate(([GUARDS, "polls"], [GUARDS], [], ["activities", "fallback"])):
        metrics.update_started(key)
        for feature in features:
            metrics.handled_by(key, feature)
    metrics.update_failed(3)
    assert metrics.oldest_update_seconds() > 0
    for key in range(4):
        metrics.update_finished(key)
    metrics.update_finished(99)  # never started (a worker): nothing to count
    text = metrics.exposition().decode()
    assert 'union_bot_updates_total{handler="polls",outcome="ok"} 1.0' in text
    assert f'union_bot_updates_total{{handler="{GUARDS}",outcome="ok"}} 1.0' in text
    assert f'union_bot_updates_total{{handler="{UNHANDLED}",outcome="ok"}} 1.0' in text
    assert 'union_bot_updates_total{handler="fallback",outcome="error"} 1.0' in text
    assert "union_bot_updates_in_progress 0.0" in text
    assert metrics.oldest_update_seconds() == 0
