"""Scheduled syncs inside `amparo serve`: a background thread runs each enabled exchange whose
interval has passed. Every replica runs this loop; the lease row (sync.py) lets one replica run a
given exchange at a time, the others skip it."""

from __future__ import annotations

import logging
import threading
from typing import Any

from amparo.banks.exchanges.sync import SyncEngine
from amparo.errors import Conflict
from amparo.store import exchanges_repo
from amparo.store.tables import utcnow

log = logging.getLogger(__name__)


def run_due(service: Any, engine: SyncEngine) -> list[dict[str, Any]]:
    """One pass: sync every due exchange (skipping those another replica holds)."""
    with service.db.session() as s:
        due = [ex.name for ex in exchanges_repo.due_exchanges(s, now=utcnow())]
    out = []
    for name in due:
        try:
            out.append(engine.sync(name).as_dict())
        except Conflict:
            log.info("exchange %s: another replica holds the lease", name)
        except Exception:
            log.exception("exchange %s: scheduled sync failed", name)
    return out


def start(service: Any, stop: threading.Event, tick_s: float) -> threading.Thread:
    engine = SyncEngine(service)

    def loop() -> None:
        while not stop.wait(tick_s):
            try:
                run_due(service, engine)
            except Exception:  # keep serving; the next tick tries again
                log.exception("exchange scheduler pass failed")

    t = threading.Thread(target=loop, name="amparo-exchanges", daemon=True)
    t.start()
    return t
