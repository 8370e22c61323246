"""`amparo exchanges ...`: configure hash exchanges, sync them now, see their state; publish banks
to partner instances (Amparo-to-Amparo)."""

from __future__ import annotations

import json
from typing import Any

import typer

from amparo.cli.output import emit, fail
from amparo.errors import AmparoError


def register(app: typer.Typer) -> None:
    ex = typer.Typer(
        help="Hash exchanges: NCMEC, StopNCII, ThreatExchange, other Amparo instances.", no_args_is_help=True
    )
    app.add_typer(ex, name="exchanges")
    partners = typer.Typer(help="Partner instances that pull banks we publish.", no_args_is_help=True)
    ex.add_typer(partners, name="partners")

    def svc():  # type: ignore[no-untyped-def]
        from amparo.cli.context import open_service

        return open_service(load_detectors=False)

    def who(s0):  # type: ignore[no-untyped-def]
        import getpass

        from amparo.banks.management import Acting

        try:
            user = getpass.getuser()
        except Exception:
            user = "unknown"
        return Acting(s0.audit, f"cli:{user}", "admin")

    def line(d: dict[str, Any]) -> str:
        err = f" error: {d['last_error'][:120]}" if d.get("last_error") else ""
        return (
            f"{d['name']:<20} {d['kind']:<15} bank={d['bank']:<16} {d['status']:<7} runs={d['runs']} "
            f"added={d['added']} removed={d['removed']} skipped={d['skipped']} cursor={json.dumps(d['cursor'])}{err}"
        )

    @ex.command("list")
    def list_(json_out: bool = typer.Option(False, "--json")) -> None:
        """List exchanges with their state (one JSON line each with --json)."""
        from amparo.banks.exchanges.operations import exchange_out
        from amparo.store import exchanges_repo

        s0 = svc()
        with s0.db.session() as s:
            rows = [exchange_out(e, st) for e, st in exchanges_repo.list_exchanges(s)]
        for d in rows:
            emit(d, as_json=json_out, text=line(d))

    @ex.command("types")
    def types(json_out: bool = typer.Option(False, "--json")) -> None:
        """The exchange types installed (built-ins and plugins) and the config each needs."""
        from amparo.banks.exchanges.base import default_registry

        reg = default_registry()
        for name in reg.names:
            t = reg.get(name)
            d = {"name": name, "description": t.description, "required": list(t.required), "secrets": list(t.secrets)}
            emit(d, as_json=json_out, text=f"{name:<15} {t.description} (needs: {', '.join(t.required)})")

    @ex.command("add")
    def add(
        name: str,
        kind: str = typer.Option(..., help="stopncii | ncmec | threatexchange | amparo (see `exchanges types`)"),
        bank: str = typer.Option(..., help="the local bank it fills (created if --category is given)"),
        config: str = typer.Option("{}", help="JSON config; secrets go in environment variables named by *_env keys"),
        category: str = typer.Option(None, help="csam | ncii | other: create the bank with this category"),
        interval: int = typer.Option(3600, help="seconds between scheduled syncs in `amparo serve`; 0 = on demand"),
        json_out: bool = typer.Option(False, "--json"),
    ) -> None:
        """Configure an exchange."""
        from amparo.banks.exchanges import operations

        try:
            cfg = json.loads(config)
        except json.JSONDecodeError as e:
            raise fail(f"--config is not JSON: {e}") from None
        if not isinstance(cfg, dict):
            raise fail("--config must be a JSON object")
        s0 = svc()
        try:
            with s0.db.session() as s:
                operations.add_exchange(
                    s, who(s0), name=name, kind=kind, bank=bank, config=cfg, interval_s=interval, category=category
                )
        except AmparoError as e:
            raise fail(e.message) from None
        emit(
            {"name": name, "kind": kind, "bank": bank, "interval_s": interval},
            as_json=json_out,
            text=f"added exchange {name} ({kind}) → bank {bank}",
        )

    @ex.command("sync")
    def sync(
        names_: list[str] = typer.Argument(
            None, metavar="NAME...", help="exchanges to sync (default: every enabled one)"
        ),
        max_pages: int = typer.Option(None, help="stop after this many pages (resume later)"),
        json_out: bool = typer.Option(False, "--json"),
    ) -> None:
        """Sync exchanges now; one line each. Exit 2 when any failed."""
        from amparo.banks.exchanges.sync import SyncEngine
        from amparo.store import exchanges_repo

        s0 = svc()
        if not names_:
            with s0.db.session() as s:
                names_ = [e.name for e, _ in exchanges_repo.list_exchanges(s) if e.enabled]
        engine = SyncEngine(s0)
        w = who(s0)
        failed = False
        for n in names_:
            try:
                r = engine.sync(n, actor=w.actor, role=w.role, max_pages=max_pages).as_dict()
            except AmparoError as e:
                r = {"exchange": n, "status": "failed", "error": e.message}
            failed |= r["status"] != "ok"
            emit(
                r,
                as_json=json_out,
                text=f"{n}: {r['status']} pages={r.get('pages', 0)} added={r.get('added', 0)} "
                f"removed={r.get('removed', 0)} skipped={r.get('skipped', 0)}"
                + (f" error: {r['error']}" if r.get("error") else ""),
            )
        if failed:
            raise typer.Exit(2)

    @ex.command("status")
    def status(name: str, json_out: bool = typer.Option(False, "--json")) -> None:
        """One exchange's state: cursor, counts, last run, last error, samples of skipped records."""
        from amparo.banks.exchanges.operations import exchange_out
        from amparo.store import exchanges_repo

        s0 = svc()
        try:
            with s0.db.session() as s:
                e = exchanges_repo.get_exchange(s, name=name)
                d = exchange_out(e, exchanges_repo.get_state(s, exchange_id=e.id))
        except AmparoError as e:
            raise fail(e.message) from None
        emit(
            d,
            as_json=json_out,
            text=line(d) + "".join(f"\n  skipped: {x['reason']}" for x in d["skipped_samples"][-5:]),
        )

    @ex.command("remove")
    def remove(name: str, json_out: bool = typer.Option(False, "--json")) -> None:
        """Remove an exchange (its bank and entries stay)."""
        from amparo.banks.exchanges import operations

        s0 = svc()
        try:
            with s0.db.session() as s:
                operations.remove_exchange(s, who(s0), name=name)
        except AmparoError as e:
            raise fail(e.message) from None
        emit({"removed": name}, as_json=json_out, text=f"removed exchange {name}")

    @ex.command("submit")
    def submit(
        name: str,
        values: list[str] = typer.Argument(None, metavar="HASH...", help="hashes to share (or - for stdin)"),
        bank: str = typer.Option(None, help="share every enabled positive entry of this local bank instead"),
        signal_type: str = typer.Option("pdq", help="the signal type of the HASH arguments"),
        json_out: bool = typer.Option(False, "--json"),
    ) -> None:
        """Share hashes with the exchange's partner (StopNCII SubmitHashes, ThreatExchange upload)."""
        from amparo.banks.exchanges import operations
        from amparo.banks.exchanges.base import Record
        from amparo.cli.output import inputs
        from amparo.store import banks_repo

        s0 = svc()
        try:
            records: list[Record] = []
            if bank:
                with s0.db.session() as s:
                    b = banks_repo.get_bank(s, name=bank)
                    after = 0
                    while rows := banks_repo.list_entries(s, bank_id=b.id, after_id=after, limit=5000):
                        records += [
                            Record("add", r.signal_type, r.value) for r in rows if r.enabled and r.opinion == "positive"
                        ]
                        after = rows[-1].id
            hasher = s0.signals.get(signal_type)
            records += [Record("add", hasher.name, hasher.normalise(v)) for v in inputs(values or [])]
            if not records:
                raise fail("nothing to submit: give hashes or --bank")
            n = operations.submit_to(s0, who(s0), name=name, records=records)
        except AmparoError as e:
            raise fail(e.message) from None
        except Exception as e:  # the partner refused or is unreachable
            raise fail(f"{type(e).__name__}: {e}"[:300]) from None
        emit({"exchange": name, "submitted": n}, as_json=json_out, text=f"submitted {n} hashes to {name}")

    @ex.command("feedback")
    def feedback(
        name: str,
        values: list[str] = typer.Argument(
            ..., metavar="HASH...", help="hashes the feedback is about (or - for stdin)"
        ),
        kind: str = typer.Option(..., help="seen | false_positive | confirmed"),
        signal_type: str = typer.Option("pdq"),
        json_out: bool = typer.Option(False, "--json"),
    ) -> None:
        """Tell the exchange's partner what we found about its hashes."""
        from amparo.banks.exchanges import operations
        from amparo.banks.exchanges.base import Feedback
        from amparo.cli.output import inputs
        from amparo.store import exchanges_repo
        from amparo.store.exchanges_repo import FEEDBACK_KINDS

        if kind not in FEEDBACK_KINDS:
            raise fail(f"--kind must be one of {', '.join(FEEDBACK_KINDS)}")
        s0 = svc()
        try:
            hasher = s0.signals.get(signal_type)
            items = []
            with s0.db.session() as s:
                bank = exchanges_repo.get_exchange(s, name=name).bank
                for v in inputs(values):
                    value = hasher.normalise(v)
                    ext = exchanges_repo.external_id_of(s, bank=bank, signal_type=hasher.name, value=value)
                    items.append(Feedback(hasher.name, value, kind, external_id=ext))
            n = operations.feedback_to(s0, who(s0), name=name, items=items)
        except AmparoError as e:
            raise fail(e.message) from None
        except Exception as e:  # the partner refused or is unreachable
            raise fail(f"{type(e).__name__}: {e}"[:300]) from None
        emit({"exchange": name, "sent": n, "kind": kind}, as_json=json_out, text=f"sent {n} {kind} to {name}")

    @ex.command("key")
    def key(json_out: bool = typer.Option(False, "--json")) -> None:
        """This instance's exchange public key (partners pin it)."""
        from amparo.banks.exchanges.publishing import exchange_signer, public_key_info

        info = public_key_info(exchange_signer(svc().settings.keys_dir))
        emit(info, as_json=json_out, text=f"{info['public_key']} (key id {info['key_id']})")

    @partners.command("add")
    def partner_add(
        name: str,
        bank: list[str] = typer.Option(..., "--bank", help="a bank this partner may pull (repeat)"),
        json_out: bool = typer.Option(False, "--json"),
    ) -> None:
        """Create a partner and print its key once (it is not stored)."""
        from amparo.banks.exchanges import operations

        s0 = svc()
        try:
            with s0.db.session() as s:
                row, k = operations.add_partner(s, who(s0), name=name, banks=bank)
                d = {**operations.partner_out(row), "key": k}
        except AmparoError as e:
            raise fail(e.message) from None
        emit(d, as_json=json_out, text=f"partner {name} may pull {', '.join(d['banks'])}\nkey (shown once): {k}")

    @partners.command("list")
    def partner_list(json_out: bool = typer.Option(False, "--json")) -> None:
        """List partners and the banks each may pull."""
        from amparo.banks.exchanges.operations import partner_out
        from amparo.store import exchanges_repo

        s0 = svc()
        with s0.db.session() as s:
            rows = [partner_out(p) for p in exchanges_repo.list_partners(s)]
        for d in rows:
            emit(
                d,
                as_json=json_out,
                text=f"{d['name']:<20} {'revoked' if d['revoked'] else 'active':<8} banks={','.join(d['banks'])}",
            )

    @partners.command("banks")
    def partner_banks(
        name: str,
        bank: list[str] = typer.Option(..., "--bank", help="the banks this partner may pull from now on (repeat)"),
        json_out: bool = typer.Option(False, "--json"),
    ) -> None:
        """Set which banks a partner may pull."""
        from amparo.banks.exchanges import operations

        s0 = svc()
        try:
            with s0.db.session() as s:
                d = operations.partner_out(operations.set_partner_banks(s, who(s0), name=name, banks=bank))
        except AmparoError as e:
            raise fail(e.message) from None
        emit(d, as_json=json_out, text=f"partner {name} may pull {', '.join(d['banks'])}")

    @partners.command("revoke")
    def partner_revoke(name: str, json_out: bool = typer.Option(False, "--json")) -> None:
        """Revoke a partner's key."""
        from amparo.banks.exchanges import operations

        s0 = svc()
        try:
            with s0.db.session() as s:
                d = operations.partner_out(operations.revoke_partner(s, who(s0), name=name))
        except AmparoError as e:
            raise fail(e.message) from None
        emit(d, as_json=json_out, text=f"revoked partner {name}")
