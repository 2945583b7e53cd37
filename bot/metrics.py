"""Prometheus metrics for operators: counts and timings only, never anything about a person."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector


class Metrics:
    """One registry per bot (so tests and several bots in one process do not collide)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.updates_received = Counter(
            "bot_updates_received", "Updates stored in the inbox", registry=r
        )
        self.updates_processed = Counter(
            "bot_updates_processed", "Updates handled and answered", registry=r
        )
        self.updates_failed = Counter(
            "bot_updates_failed", "Updates quarantined after failing", registry=r
        )
        self.webhook_rejected = Counter(
            "bot_webhook_rejected", "Webhook requests refused (wrong or missing secret)", registry=r
        )
        self.update_seconds = Histogram(
            "bot_update_seconds",
            "From taking an update in hand to its last reply",
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16),
            registry=r,
        )
        self.inbox_waiting = Gauge("bot_inbox_waiting", "Updates stored, not yet done", registry=r)
        self.inbox_lag = Gauge(
            "bot_inbox_lag_seconds", "Age of the oldest update not yet done", registry=r
        )
        self.routines_sent = Counter(
            "bot_routines_sent", "Morning messages sent by the dispatcher", ["kind"], registry=r
        )
        self.routines_skipped = Counter(
            "bot_routines_skipped", "Due people the dispatcher skipped", ["reason"], registry=r
        )
        self.people = Gauge("bot_people", "People by status", ["status"], registry=r)
        self.dispatch_pass_age = Gauge(
            "bot_dispatch_pass_age_seconds", "Seconds since the last dispatcher pass", registry=r
        )

    def count_flood_waits(self, read: Callable[[], int]) -> None:
        """Expose the rate limiter's own count of 429s as ``bot_telegram_429_total``: every
        request goes through the limiter, so its count is the complete one."""
        self.registry.register(
            _ReadCounter("bot_telegram_429", "Flood waits (429) received from Telegram", read)
        )


class _ReadCounter(Collector):
    """A counter whose value is read from elsewhere at scrape time."""

    def __init__(self, name: str, documentation: str, read: Callable[[], int]) -> None:
        self._name, self._documentation, self._read = name, documentation, read

    def collect(self) -> Iterator[Metric]:
        yield CounterMetricFamily(self._name, self._documentation, value=self._read())
