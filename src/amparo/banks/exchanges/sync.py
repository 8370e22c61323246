"""The sync engine: pull pages from an exchange into its bank, incrementally and resumably.

Each page is validated record by record (a bad record is logged, counted, kept as a sample and
skipped: it never stops the sync or reaches the index), then applied with `banks.management`
(audit records, the index and bank change feeds) and the page's cursor stored, all in one
transaction: after a crash the next run resumes after the last committed page. One replica runs
a given exchange at a time: the engine holds a lease row and renews it after every page.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import time
import uuid
from dataclasses import asdict, dataclass
from typing import Any

from amparo.audit import names
from amparo.banks import management
from amparo.banks.exchanges.base import ExchangeRegistry, Page, Record, default_registry, record_audit
from amparo.banks.exchanges.validation import Rejected, validate
from amparo.errors import AmparoError, Conflict
from amparo.store import banks_repo, exchanges_repo
from amparo.store.banks_repo import NewEntry

log = logging.getLogger(__name__)
LEASE_SECONDS = 300.0
_SECRETISH = re.compile(r"(access_token|key|password|token|secret)=[^&\s]+", re.I)


@dataclass
class SyncResult:
    exchange: str
    status: str  # ok | failed
    pages: int = 0
    fetched: int = 0
    added: int = 0
    removed: int = 0
    skipped: int = 0
    unsupported: int = 0
    cursor: Any = None
    error: str | None = None
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def replica_id() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def redact(message: str, config: dict[str, Any]) -> str:
    """An error text safe for the database and logs: no query-string secrets, no configured secret."""
    out = _SECRETISH.sub(lambda m: m.group(1) + "=***", message)
    for k, var in config.items():
        if k.endswith("_env") and isinstance(var, str):
            value = os.environ.get(var)
            if value and len(value) >= 4:
                out = out.replace(value, "***")
    return out[:2000]


class SyncEngine:
    def __init__(
        self,
        service: Any,
        *,
        registry: ExchangeRegistry | None = None,
        owner: str | None = None,
        lease_seconds: float = LEASE_SECONDS,
    ) -> None:
        self.service = service
        self.registry = registry or default_registry()
        self.owner = owner or replica_id()
        self.lease_seconds = lease_seconds

    def sync(
        self,
        name: str,
        *,
        actor: str = names.SYSTEM_ACTOR,
        role: str = names.SYSTEM_ROLE,
        max_pages: int | None = None,
    ) -> SyncResult:
        """One run: every page after the stored cursor (or `max_pages` of them)."""
        db = self.service.db
        who = management.Acting(self.service.audit, actor, role)
        started = time.monotonic()
        with db.session() as s:
            ex = exchanges_repo.get_exchange(s, name=name)
            ex_id, kind, bank, config = ex.id, ex.kind, ex.bank, dict(ex.config or {})
            if not exchanges_repo.acquire_lease(s, exchange_id=ex_id, owner=self.owner, seconds=self.lease_seconds):
                raise Conflict(f"exchange {name!r} is being synced by another replica")
            banks_repo.get_bank(s, name=bank)  # 404 before any network call
            exchanges_repo.mark_run(s, exchange_id=ex_id, status="running")
            cursor = exchanges_repo.get_state(s, exchange_id=ex_id).cursor
        result = SyncResult(name, "ok", cursor=cursor)
        try:
            client = self.registry.get(kind).build(config, self.service)
            for page in client.fetch(cursor):
                self._apply(ex_id, name, bank, page, who, result)
                if max_pages is not None and result.pages >= max_pages:
                    break
        except Exception as e:  # recorded; the committed pages stay, the next run resumes after them
            msg = e.message if isinstance(e, AmparoError) else f"{type(e).__name__}: {e}"
            result.status, result.error = "failed", redact(msg, config)
            log.warning("exchange %s: sync failed after %d pages: %s", name, result.pages, result.error)
        result.seconds = round(time.monotonic() - started, 3)
        with db.session() as s:
            exchanges_repo.mark_run(s, exchange_id=ex_id, status=result.status, error=result.error)
            exchanges_repo.release_lease(s, exchange_id=ex_id, owner=self.owner)
            record_audit(
                s,
                who,
                names.EXCHANGE_SYNC,
                "exchange",
                name,
                {k: v for k, v in result.as_dict().items() if k not in ("exchange",)},
            )
        return result

    def _apply(self, ex_id: int, name: str, bank: str, page: Page, who: management.Acting, result: SyncResult) -> None:
        rejected: list[Rejected] = []
        final: dict[tuple[str, str], Record] = {}  # records are snapshots: the last one of a hash wins
        gone_ids: list[str] = []  # tombstones by the partner's entry id
        for raw in page.records:
            checked = validate(raw, self.service.signals)
            if isinstance(checked, Rejected):
                if raw.unsupported:
                    result.unsupported += 1  # a signal type Amparo does not hold (e.g. TMK): skipped, by design
                    continue
                rejected.append(checked)
            elif checked.op == "remove" and not checked.value:
                gone_ids.append(str(checked.external_id))
            else:
                final[(checked.signal_type, checked.value)] = checked
        for bad in page.malformed:
            rejected.append(Rejected(str(bad.get("reason", "malformed record"))[:200], bad.get("record", {})))
        for r in rejected:
            log.warning("exchange %s: skipped a bad record: %s %s", name, r.reason, r.record)
        adds = [
            NewEntry(r.signal_type, r.value, r.opinion, None, r.external_id, {**(r.metadata or {}), "exchange": name})
            for r in final.values()
            if r.op == "add"
        ]
        removes = [k for k, r in final.items() if r.op == "remove"]
        via = f"exchange:{name}"
        with self.service.db.session() as s:
            if not exchanges_repo.renew_lease(s, exchange_id=ex_id, owner=self.owner, seconds=self.lease_seconds):
                raise Conflict(f"lost the lease on exchange {name!r}")
            b = banks_repo.get_bank(s, name=bank)
            if adds:
                # the bulk path (COPY on PostgreSQL, one index feed marker a page), as imports
                management.bulk_add(s, who, bank=bank, entries=adds, details={"via": via})
            n_removed = 0
            if removes or gone_ids:
                ids = exchanges_repo.entry_ids_by_values(s, bank_id=b.id, pairs=removes)
                ids = sorted(
                    set(ids) | set(exchanges_repo.entry_ids_by_external(s, bank_id=b.id, external_ids=gone_ids))
                )
                if ids:
                    n_removed = management.remove_entries(s, who, bank=bank, entry_ids=ids)
            exchanges_repo.record_page(
                s,
                exchange_id=ex_id,
                cursor=page.cursor,
                fetched=len(page.records) + len(page.malformed),
                added=len(adds),
                removed=n_removed,
                skipped=[r.as_dict() for r in rejected],
            )
        result.pages += 1
        result.fetched += len(page.records) + len(page.malformed)
        result.added += len(adds)
        result.removed += n_removed
        result.skipped += len(rejected)
        result.cursor = page.cursor
