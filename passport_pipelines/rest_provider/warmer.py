"""Snapshots built ahead of requests: at start and whenever a version goes into production, for every
app of every district, so an app's first page after a sync does not wait for its snapshot."""

from __future__ import annotations

import logging
import threading

from passport_pipelines.config.loader import load_all
from passport_pipelines.rest_provider.served_version import served_version
from passport_pipelines.rest_provider.snapshots import NotServable, Snapshots

log = logging.getLogger(__name__)
POLL_SECONDS = 30.0


def warm_once(snapshots: Snapshots, integrations_dir=None) -> list[str]:
    """Build what is missing now; returns "district year vN: clients" lines of what was built."""
    built = []
    integrations, _errors = load_all(integrations_dir)
    for integration in integrations.values():
        for year in integration.school_years:
            dests = [d for d in integration.api_destinations if year in (d.school_years or integration.school_years)]
            if not dests:
                continue
            served = served_version(snapshots.store, integration.district, year)
            if served.in_production is None or not served.buildable:
                continue
            try:
                done = snapshots.build(integration, served.in_production, dests)
            except NotServable as exc:
                log.info("%s", exc)
                continue
            if done:
                built.append(f"{integration.district} {year} v{served.in_production.number}: {', '.join(done)}")
    return built


class Warmer:
    def __init__(self, snapshots: Snapshots, integrations_dir=None, poll: float = POLL_SECONDS):
        self.snapshots, self.integrations_dir, self.poll = snapshots, integrations_dir, poll
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        def loop():
            while not self._stop.is_set():
                try:
                    for line in warm_once(self.snapshots, self.integrations_dir):
                        log.info("snapshot built: %s", line)
                except Exception as exc:  # the next round tries again; requests build what they need
                    log.warning("building snapshots failed: %s", type(exc).__name__)
                self._stop.wait(self.poll)
        self._thread = threading.Thread(target=loop, name="api-snapshots", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
