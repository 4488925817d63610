"""Fixtures for the lifecycle tests: a clock that walks day by day and runs the tick."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail

from customers.tick import TickReport, lifecycle_tick
from partnerhub.core.outbox import outbox_flush
from tests.realworker import database, smtp  # noqa: F401  (the real-worker tests' fixtures)

T0 = datetime(2027, 1, 4, 2, 0, tzinfo=UTC)  # a Monday, 02:00 UTC like the beat schedule


class Clock:
    """Day ``n`` is T0 + n days. ``tick(n)`` travels there, runs the lifecycle tick and delivers
    what it owed (locmem backend), returning the report."""

    def __init__(self, traveller: time_machine.travel) -> None:
        self.traveller = traveller
        self.day = 0

    def at(self, day: float) -> datetime:
        return T0 + timedelta(days=day)

    def go(self, day: float) -> datetime:
        self.day = int(day)
        self.traveller.move_to(self.at(day))  # type: ignore[attr-defined]
        return self.at(day)

    def tick(self, day: float, *, dry_run: bool = False) -> TickReport:
        now = self.go(day)
        report = lifecycle_tick(now=now, dry_run=dry_run)
        outbox_flush()
        return report

    def walk(self, start: int, stop: int) -> list[TickReport]:
        return [self.tick(day) for day in range(start, stop + 1)]


@pytest.fixture
def clock() -> Iterator[Clock]:
    with time_machine.travel(T0, tick=False) as traveller:
        mail.outbox = []
        yield Clock(traveller)
