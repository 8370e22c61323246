"""Exchange and partner operations shared by the CLI, the API and the UI: each change is one audit
record naming who did it, written in the transaction of the change."""

from __future__ import annotations

from typing import Any

from amparo.audit import names
from amparo.banks.exchanges.base import ExchangeRegistry, Feedback, Record, default_registry, record_audit
from amparo.banks.management import Acting
from amparo.errors import BadInput
from amparo.store import banks_repo, exchanges_repo
from amparo.store.tables_exchanges import ExchangeRow, ExchangeStateRow, PartnerRow


def exchange_out(ex: ExchangeRow, st: ExchangeStateRow) -> dict[str, Any]:
    def iso(d: Any) -> str | None:
        return d.isoformat() if d else None

    return {
        "name": ex.name,
        "kind": ex.kind,
        "bank": ex.bank,
        "enabled": ex.enabled,
        "interval_s": ex.interval_s,
        "config": ex.config,  # names of environment variables only, never secrets
        "status": st.status,
        "cursor": st.cursor,
        "runs": st.runs,
        "fetched": st.fetched,
        "added": st.added,
        "removed": st.removed,
        "skipped": st.skipped,
        "last_error": st.last_error,
        "last_run_at": iso(st.last_run_at),
        "last_success_at": iso(st.last_success_at),
        "skipped_samples": st.skipped_samples or [],
        "lease_owner": st.lease_owner,
    }


def add_exchange(
    session: Any,
    who: Acting,
    *,
    name: str,
    kind: str,
    bank: str,
    config: dict[str, Any],
    interval_s: int = 3600,
    category: str | None = None,
    registry: ExchangeRegistry | None = None,
) -> ExchangeRow:
    """Configure an exchange; its bank is created (with `category`) when it does not exist yet."""
    from amparo.banks import management

    reg = registry or default_registry()
    reg.check_config(kind, config)
    try:
        banks_repo.get_bank(session, name=bank)
    except Exception:
        if not category:
            raise BadInput(f"bank {bank!r} does not exist: give its category to create it", code="no_bank") from None
        management.create_bank(session, who, name=bank, category=category, source=f"exchange:{name}")
    row = exchanges_repo.create_exchange(session, name=name, kind=kind, bank=bank, config=config, interval_s=interval_s)
    record_audit(
        session,
        who,
        names.EXCHANGE_ADD,
        "exchange",
        name,
        {"kind": kind, "bank": bank, "config": config, "interval_s": interval_s},
    )
    return row


def remove_exchange(session: Any, who: Acting, *, name: str) -> None:
    row = exchanges_repo.delete_exchange(session, name=name)
    record_audit(session, who, names.EXCHANGE_REMOVE, "exchange", name, {"kind": row.kind, "bank": row.bank})


def _client_of(service: Any, name: str, registry: ExchangeRegistry | None) -> Any:
    """The named exchange's client, built from its stored (non-secret) config."""
    with service.db.session() as s:
        ex = exchanges_repo.get_exchange(s, name=name)
        kind, config = ex.kind, dict(ex.config or {})
    return (registry or default_registry()).get(kind).build(config, service)


def _audit_sent(service: Any, who: Acting, action: str, name: str, details: dict[str, Any]) -> None:
    with service.db.session() as s:
        record_audit(s, who, action, "exchange", name, details)


def submit_to(
    service: Any, who: Acting, *, name: str, records: list[Record], registry: ExchangeRegistry | None = None
) -> int:
    n = _client_of(service, name, registry).submit(records)
    types = sorted({r.signal_type for r in records})
    _audit_sent(service, who, names.EXCHANGE_SUBMIT, name, {"count": n, "signal_types": types})
    return n


def feedback_to(
    service: Any, who: Acting, *, name: str, items: list[Feedback], registry: ExchangeRegistry | None = None
) -> int:
    n = _client_of(service, name, registry).feedback(items)
    kinds = sorted({f.kind for f in items})
    _audit_sent(service, who, names.EXCHANGE_FEEDBACK_SENT, name, {"count": n, "kinds": kinds})
    return n


# -- partners (who may pull what from us) ----------------------------------------------------------
def partner_out(p: PartnerRow) -> dict[str, Any]:
    return {
        "name": p.name,
        "prefix": p.prefix,
        "banks": p.banks,
        "created_at": p.created_at.isoformat() if p.created_at else None,
        "revoked": p.revoked_at is not None,
    }


def add_partner(session: Any, who: Acting, *, name: str, banks: list[str]) -> tuple[PartnerRow, str]:
    for b in banks:
        banks_repo.get_bank(session, name=b)
    row, key = exchanges_repo.create_partner(session, name=name, banks=banks)
    record_audit(session, who, names.PARTNER_ADD, "partner", name, {"banks": row.banks, "prefix": row.prefix})
    return row, key


def set_partner_banks(session: Any, who: Acting, *, name: str, banks: list[str]) -> PartnerRow:
    for b in banks:
        banks_repo.get_bank(session, name=b)
    row = exchanges_repo.set_partner_banks(session, name=name, banks=banks)
    record_audit(session, who, names.PARTNER_UPDATE, "partner", name, {"banks": row.banks})
    return row


def revoke_partner(session: Any, who: Acting, *, name: str) -> PartnerRow:
    row = exchanges_repo.revoke_partner(session, name=name)
    record_audit(session, who, names.PARTNER_REVOKE, "partner", name, {"prefix": row.prefix})
    return row
