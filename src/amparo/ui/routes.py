"""The reviewer web UI: server-rendered pages, a little JavaScript, no front-end build.

Mounted by the app factory with `app.include_router(build_ui_router(service))`; the router
carries its own prefix (/ui). Every response gets the security headers; every form is
CSRF-checked; every refusal of a role is answered 403 and recorded in the audit trail.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Form, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, PackageLoader, select_autoescape

from amparo.audit import names
from amparo.cases import roles
from amparo.cases.components import ReviewComponents, load_session_secret, review_config_from
from amparo.cases.priority import priority_name
from amparo.cases.reviewers import authenticate
from amparo.cases.roles import Actor
from amparo.cases.stats import review_stats
from amparo.cases.workflow import (
    ACCOUNT_ACTIONS,
    APPEAL_OUTCOMES,
    LABELS,
    BankRefused,
    DecisionInput,
)
from amparo.errors import AmparoError, BadInput, Forbidden, NotFound
from amparo.store import audit_repo, evidence_repo, integrity_marker, rate_limits_repo, review_repo
from amparo.store.database import Database
from amparo.ui import tokens

STATIC_DIR = Path(__file__).parent / "static"
STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
TOUCH_EVERY = timedelta(seconds=60)


class SignInRequired(Exception):
    pass


def security_headers(response: Response, request: Request) -> None:
    h = response.headers
    h["Content-Security-Policy"] = CSP
    h["X-Frame-Options"] = "DENY"
    h["X-Content-Type-Options"] = "nosniff"
    h["Referrer-Policy"] = "no-referrer"
    h["Cross-Origin-Opener-Policy"] = "same-origin"
    h["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    h.setdefault("Cache-Control", "no-store")
    if request.url.scheme == "https":
        h["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"


@dataclass
class Auth:
    actor: Actor
    token: str
    csrf: str


class ReviewUI:
    def __init__(self, *, db: Database, review: ReviewComponents, prefix: str) -> None:
        self.db = db
        self.review = review
        self.prefix = prefix.rstrip("/")
        self.secret = review.session_secret
        self.env = Environment(
            loader=PackageLoader("amparo.ui", "templates"),
            autoescape=select_autoescape(["html"]),
        )
        self.env.filters["when"] = _when
        self.env.filters["tojson_pretty"] = lambda v: json.dumps(v, indent=1, sort_keys=True)
        self.env.globals["priority_name"] = priority_name

    # -- rendering -----------------------------------------------------------------------

    def render(
        self, request: Request, template: str, *, auth: Auth | None, status: int = 200, **ctx: Any
    ) -> HTMLResponse:
        exposure = None
        if auth is not None and auth.actor.user_id is not None and auth.actor.can(roles.REVEAL):
            with self.db.session() as s:
                exposure = review_repo.get_exposure(s, user_id=auth.actor.user_id, day=_today())
        html = self.env.get_template(template).render(
            base=self.prefix,
            actor=auth.actor if auth else None,
            csrf=auth.csrf if auth else ctx.pop("csrf", ""),
            can=(lambda p: auth is not None and auth.actor.can(p)),
            exposure=exposure,
            exposure_limit=self.review.config.exposure_daily_limit,
            roles=roles,
            **ctx,
        )
        return HTMLResponse(html, status_code=status)

    def error_page(self, request: Request, status: int, message: str) -> HTMLResponse:
        auth = None
        try:
            auth = self.authenticate(request)
        except Exception:
            auth = None
        return self.render(request, "error.html", auth=auth, status=status, message=message)

    # -- sessions ------------------------------------------------------------------------

    def authenticate(self, request: Request) -> Auth:
        token = request.cookies.get(tokens.SESSION_COOKIE)
        if not token:
            raise SignInRequired()
        th = tokens.token_hash(token)
        now = datetime.now(UTC)
        cfg = self.review.config
        expired = False
        actor: Actor | None = None
        with self.db.session() as s:
            row = review_repo.get_ui_session(s, token_hash=th)
            if row is not None and row.revoked_at is None:
                last = evidence_repo.as_utc(row.last_seen_at)
                idle = now - last > timedelta(minutes=cfg.idle_minutes)
                if evidence_repo.as_utc(row.expires_at) <= now or idle:
                    review_repo.revoke_ui_session(s, token_hash=th, at=now)  # committed
                    expired = True
                else:
                    user = review_repo.get_user(s, user_id=row.user_id)
                    if user is not None and user.active:
                        if now - last > TOUCH_EVERY:
                            review_repo.touch_ui_session(s, token_hash=th, at=now)
                        actor = Actor(name=user.name, role=user.role, user_id=user.id)
        if expired or actor is None:
            raise SignInRequired()
        return Auth(actor=actor, token=token, csrf=tokens.csrf_for_session(self.secret, token))

    def check_csrf(self, request: Request, auth: Auth, submitted: str | None) -> None:
        submitted = submitted or request.headers.get(tokens.CSRF_HEADER)
        if not tokens.csrf_ok(auth.csrf, request.cookies.get(tokens.CSRF_COOKIE), submitted):
            raise Forbidden("the form's security token is missing or stale; reload the page")

    def require(self, auth: Auth, permission: str, *, what: str, subject: str = "ui") -> None:
        """403 and an audit record when the role lacks the permission."""
        if auth.actor.can(permission):
            return
        with self.db.session() as s:
            self.review.audit.record(
                s,
                action=names.ROLE_DENIED,
                subject_type="ui",
                subject_id=subject,
                actor=auth.actor.name,
                actor_role=auth.actor.role,
                details={"permission": permission, "what": what},
            )
        raise Forbidden(f"your role ({auth.actor.role}) may not {what}")

    def set_cookie(
        self,
        request: Request,
        response: Response,
        name: str,
        value: str,
        *,
        http_only: bool,
        max_age: int | None = None,
    ) -> None:
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            path=self.prefix or "/",
            secure=request.url.scheme == "https",
            httponly=http_only,
            samesite="strict",
        )

    def clear_cookies(self, response: Response) -> None:
        for name in (tokens.SESSION_COOKIE, tokens.CSRF_COOKIE):
            response.delete_cookie(name, path=self.prefix or "/")


def _today() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d")


def _when(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value[:19].replace("T", " ")
    return evidence_repo.as_utc(value).strftime("%Y-%m-%d %H:%M UTC")


def _age(value: datetime) -> str:
    secs = (datetime.now(UTC) - evidence_repo.as_utc(value)).total_seconds()
    if secs < 3600:
        return f"{int(secs // 60)} min"
    if secs < 86400:
        return f"{secs / 3600:.1f} h"
    return f"{secs / 86400:.1f} d"


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _review_components(service: Any) -> ReviewComponents:
    review = getattr(service, "review", None)
    if isinstance(review, ReviewComponents):
        return review
    settings = service.settings
    return ReviewComponents(
        audit=service.audit,
        vault=service.vault,
        cases=service.cases,
        config=review_config_from(settings),
        session_secret=load_session_secret(settings),
    )


def build_ui_router(service: Any, *, prefix: str = "/ui") -> APIRouter:
    """`service` needs `.db` and either `.review` (ReviewComponents) or `.audit`, `.vault`,
    `.cases` and `.settings`."""
    ui = ReviewUI(db=service.db, review=_review_components(service), prefix=prefix)
    review = ui.review

    class SecureRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            original = super().get_route_handler()

            async def handler(request: Request) -> Response:
                try:
                    response = await original(request)
                except SignInRequired:
                    response = RedirectResponse(f"{ui.prefix}/login", status_code=303)
                except AmparoError as e:
                    if request.headers.get("accept", "").startswith("application/json"):
                        response = JSONResponse({"error": e.code, "message": e.message}, e.status)
                    else:
                        response = ui.error_page(request, e.status, e.message)
                except RequestValidationError:
                    response = ui.error_page(request, 400, "the form was incomplete or malformed")
                security_headers(response, request)
                return response

            return handler

    router = APIRouter(prefix=ui.prefix, route_class=SecureRoute, include_in_schema=False)

    # -- sign-in -------------------------------------------------------------------------

    @router.get("/", response_class=HTMLResponse)
    def home(request: Request) -> Response:
        auth = ui.authenticate(request)
        target = "queue" if auth.actor.can(roles.VIEW_CASES) else "dashboard"
        return RedirectResponse(f"{ui.prefix}/{target}", status_code=303)

    @router.get("/login", response_class=HTMLResponse)
    def login_page(request: Request) -> Response:
        pre = request.cookies.get(tokens.PRE_COOKIE) or tokens.new_token()
        response = ui.render(
            request, "login.html", auth=None, csrf=tokens.csrf_for_pre(ui.secret, pre), error=None
        )
        ui.set_cookie(request, response, tokens.PRE_COOKIE, pre, http_only=True, max_age=3600)
        return response

    @router.post("/login")
    def login(
        request: Request,
        name: str = Form(""),
        password: str = Form(""),
        csrf_token: str = Form(""),
    ) -> Response:
        pre = request.cookies.get(tokens.PRE_COOKIE, "")
        if not pre or not tokens.csrf_ok(
            tokens.csrf_for_pre(ui.secret, pre), csrf_token, csrf_token
        ):
            raise Forbidden("the sign-in form expired; reload the page")
        ip = _client_ip(request)
        name = name.strip()[:100]
        cfg = review.config
        now = datetime.now(UTC)
        window = max(1, int(cfg.sign_in_window_minutes * 60))
        # Counted per address+name and per address (never per name alone: anyone could then lock a
        # reviewer out), and counted atomically BEFORE the password is checked, so concurrent
        # attempts cannot all slip past the limit. A success hands its slots back.
        pair, addr = f"signin:{ip}:{name}", f"signin-ip:{ip}"
        with ui.db.session() as s:
            limited = (
                rate_limits_repo.hit(s, bucket=pair, window_seconds=window).count
                > cfg.max_failures_per_name
            )
            limited = (
                rate_limits_repo.hit(s, bucket=addr, window_seconds=window).count
                > cfg.max_failures_per_ip
                or limited
            )
            if limited:
                review.audit.record(
                    s,
                    action=names.SIGN_IN_RATE_LIMITED,
                    subject_type="user",
                    subject_id=name,
                    actor=name or "unknown",
                    actor_role="anonymous",
                    details={"ip": ip},
                )
        if limited:
            refused = ui.render(
                request,
                "login.html",
                auth=None,
                status=429,
                csrf=tokens.csrf_for_pre(ui.secret, pre),
                error="Too many failed sign-ins. Wait a few minutes and try again.",
            )
            refused.headers["Retry-After"] = str(window)
            return refused
        with ui.db.session() as s:
            user = authenticate(s, name=name, password=password)
            review_repo.insert_sign_in_attempt(s, name=name, ip=ip, ok=user is not None, at=now)
            if user is None:
                review.audit.record(
                    s,
                    action=names.SIGN_IN_FAILED,
                    subject_type="user",
                    subject_id=name,
                    actor=name or "unknown",
                    actor_role="anonymous",
                    details={"ip": ip},
                )
            else:
                token = tokens.new_token()  # a fresh token at every sign-in (no fixation)
                review_repo.insert_ui_session(
                    s,
                    token_hash=tokens.token_hash(token),
                    user_id=user.id,
                    expires_at=now + timedelta(hours=cfg.session_hours),
                    ip=ip,
                )
                rate_limits_repo.clear(s, bucket=pair)
                rate_limits_repo.refund(s, bucket=addr)
                review.audit.record(
                    s,
                    action=names.SIGN_IN,
                    subject_type="user",
                    subject_id=user.name,
                    actor=user.name,
                    actor_role=user.role,
                    details={"ip": ip},
                )
                role = user.role
        if user is None:
            return ui.render(
                request,
                "login.html",
                auth=None,
                status=401,
                csrf=tokens.csrf_for_pre(ui.secret, pre),
                error="Wrong name or password.",
            )
        target = "queue" if roles.allowed(role, roles.VIEW_CASES) else "dashboard"
        response = RedirectResponse(f"{ui.prefix}/{target}", status_code=303)
        max_age = int(cfg.session_hours * 3600)
        ui.set_cookie(
            request, response, tokens.SESSION_COOKIE, token, http_only=True, max_age=max_age
        )
        ui.set_cookie(
            request,
            response,
            tokens.CSRF_COOKIE,
            tokens.csrf_for_session(ui.secret, token),
            http_only=False,
            max_age=max_age,
        )
        response.delete_cookie(tokens.PRE_COOKIE, path=ui.prefix or "/")
        return response

    @router.post("/logout")
    def logout(request: Request, csrf_token: str = Form("")) -> Response:
        auth = ui.authenticate(request)
        ui.check_csrf(request, auth, csrf_token)
        with ui.db.session() as s:
            review_repo.revoke_ui_session(
                s, token_hash=tokens.token_hash(auth.token), at=datetime.now(UTC)
            )
            review.audit.record(
                s,
                action=names.SIGN_OUT,
                subject_type="user",
                subject_id=auth.actor.name,
                actor=auth.actor.name,
                actor_role=auth.actor.role,
            )
        response = RedirectResponse(f"{ui.prefix}/login", status_code=303)
        ui.clear_cookies(response)
        return response

    # -- queue and cases -------------------------------------------------------------------

    @router.get("/queue", response_class=HTMLResponse)
    def queue(request: Request) -> Response:
        auth = ui.authenticate(request)
        ui.require(auth, roles.VIEW_CASES, what="see the review queue", subject="queue")
        with ui.db.session() as s:
            cases = review_repo.list_queue(
                s, include_escalated=auth.actor.can(roles.DECIDE_ESCALATED)
            )
            users = {u.id: u.name for u in review_repo.list_users(s)}
            rows = [
                {
                    "id": c.id,
                    "title": c.title,
                    "labels": c.labels,
                    "priority": c.priority,
                    "state": c.state,
                    "age": _age(c.created_at),
                    "created_at": c.created_at,
                    "assignee": users.get(c.assignee_id) if c.assignee_id else None,
                    "account": c.account,
                }
                for c in cases
            ]
        return ui.render(request, "queue.html", auth=auth, cases=rows)

    def _case_context(auth: Auth, case_id: int) -> dict[str, Any]:
        with ui.db.session() as s:
            case = review_repo.get_case(s, case_id=case_id)
            if case is None:
                raise NotFound(f"no case {case_id}")
            users = {u.id: u.name for u in review_repo.list_users(s)}
            items = []
            for it in review_repo.list_case_items(s, case_id=case_id):
                ev = evidence_repo.get_item(s, ref=it.evidence_ref) if it.evidence_ref else None
                items.append(
                    {
                        "item_id": it.item_id,
                        "kind": it.kind,
                        "evidence_ref": it.evidence_ref,
                        "has_media": ev is not None and ev.media_type.startswith("image/"),
                        "media_type": ev.media_type if ev else None,
                        "hashes": {"sha256": ev.sha256, "md5": ev.md5, "pdq": ev.pdq} if ev else {},
                        "signals": it.signals,
                        "matches": it.matches,
                        "classifications": it.classifications,
                        "text_excerpt": it.text_excerpt,
                    }
                )
            decisions = [
                {
                    "kind": d.kind,
                    "label": d.label,
                    "note": d.note,
                    "actions": d.actions,
                    "reviewer": users.get(d.reviewer_id or -1, "amparo"),
                    "at": d.created_at,
                }
                for d in review_repo.list_decisions(s, case_id=case_id)
            ]
            appeal = review_repo.open_appeal_for_case(s, case_id=case_id)
            banks = review_repo.list_bankable_banks(s) if auth.actor.can(roles.BANK_HASHES) else []
            return {
                "case": {
                    "id": case.id,
                    "title": case.title,
                    "labels": case.labels,
                    "reasons": case.reasons,
                    "priority": case.priority,
                    "state": case.state,
                    "version": case.version,
                    "account": case.account,
                    "created_at": case.created_at,
                    "outcome": case.outcome,
                    "outcome_label": case.outcome_label,
                    "report_state": case.report_state,
                    "decided_at": case.decided_at,
                    "event_id": case.event_id,
                    "assignee": users.get(case.assignee_id) if case.assignee_id else None,
                    "assignee_id": case.assignee_id,
                },
                "items": items,
                "decisions": decisions,
                "open_appeal": appeal.id if appeal else None,
                "banks": [{"id": b.id, "name": b.name, "category": b.category} for b in banks],
                "labels": LABELS,
                "account_actions": ACCOUNT_ACTIONS,
            }

    @router.get("/cases/{case_id}", response_class=HTMLResponse)
    def case_page(request: Request, case_id: int) -> Response:
        auth = ui.authenticate(request)
        ui.require(auth, roles.VIEW_CASES, what="open case pages", subject=f"case:{case_id}")
        ctx = _case_context(auth, case_id)
        can_decide = ctx["case"]["state"] in review_repo.OPEN_STATES and (
            ctx["case"]["state"] != "escalated" or auth.actor.can(roles.DECIDE_ESCALATED)
        )
        return ui.render(
            request, "case.html", auth=auth, can_decide=can_decide, message=None, **ctx
        )

    @router.post("/cases/{case_id}/assign")
    def assign(
        request: Request, case_id: int, version: int = Form(...), csrf_token: str = Form("")
    ) -> Response:
        auth = ui.authenticate(request)
        ui.check_csrf(request, auth, csrf_token)
        ui.require(auth, roles.DECIDE, what="take cases", subject=f"case:{case_id}")
        with ui.db.session() as s:
            review.cases.assign(
                s, case_id=case_id, expected_version=version, assignee=auth.actor, actor=auth.actor
            )
        return RedirectResponse(f"{ui.prefix}/cases/{case_id}", status_code=303)

    @router.post("/cases/{case_id}/decide")
    def decide(
        request: Request,
        case_id: int,
        version: int = Form(...),
        kind: str = Form(""),
        label: str = Form(""),
        note: str = Form(""),
        actions: list[str] = Form([]),
        account_action: str = Form(""),
        bank_id: str = Form(""),
        csrf_token: str = Form(""),
    ) -> Response:
        auth = ui.authenticate(request)
        ui.check_csrf(request, auth, csrf_token)
        ui.require(auth, roles.DECIDE, what="decide cases", subject=f"case:{case_id}")
        if "bank" in actions:
            ui.require(
                auth, roles.BANK_HASHES, what="add hashes to a bank", subject=f"case:{case_id}"
            )
        try:
            bank = int(bank_id) if bank_id else None
        except ValueError as e:
            raise BadInput("bad bank id") from e
        if bank is not None and not 0 < bank < 2**63:
            raise BadInput("bad bank id")
        decision = DecisionInput(
            kind=kind,
            label=label or None,
            note=note,
            actions=tuple(a for a in actions if a),
            account_action=account_action or None,
            bank_id=bank,
        )
        with ui.db.session() as s:
            case = review_repo.get_case(s, case_id=case_id)
            if case is not None and case.state == "escalated":
                ui.require(
                    auth,
                    roles.DECIDE_ESCALATED,
                    what="decide escalated cases",
                    subject=f"case:{case_id}",
                )
        try:
            with ui.db.session() as s:
                review.cases.decide(
                    s, case_id=case_id, expected_version=version, decision=decision, actor=auth.actor
                )
        except (Forbidden, BankRefused) as e:
            # nothing changed (the session rolled back); the attempt itself is recorded
            with ui.db.session() as s:
                review.audit.record(
                    s,
                    action=names.CASE_DECIDE_REFUSED,
                    subject_type="case",
                    subject_id=case_id,
                    actor=auth.actor.name,
                    actor_role=auth.actor.role,
                    details={"reason": e.code, "bank_id": bank, "kind": kind[:40]},
                )
            raise
        return RedirectResponse(f"{ui.prefix}/queue?decided={case_id}", status_code=303)

    @router.post("/cases/{case_id}/appeals")
    def record_appeal(
        request: Request,
        case_id: int,
        statement: str = Form(""),
        account: str = Form(""),
        csrf_token: str = Form(""),
    ) -> Response:
        auth = ui.authenticate(request)
        ui.check_csrf(request, auth, csrf_token)
        ui.require(auth, roles.FILE_APPEAL, what="record appeals", subject=f"case:{case_id}")
        if not statement.strip():
            raise BadInput("an appeal needs the user's statement")
        with ui.db.session() as s:
            appeal = review.cases.file_appeal(
                s, case_id=case_id, statement=statement, account=account or None, actor=auth.actor
            )
            appeal_id = appeal.id
        target = "appeals" if auth.actor.can(roles.DECIDE_APPEAL) else f"cases/{case_id}"
        return RedirectResponse(f"{ui.prefix}/{target}?filed={appeal_id}", status_code=303)

    # -- evidence: blurred preview, deliberate reveal ---------------------------------------

    def _evidence_case(s: Any, ref: str) -> int:
        case_id = review_repo.case_for_evidence(s, evidence_ref=ref)
        if case_id is None:
            raise NotFound("no such item under review")
        return case_id

    @router.get("/evidence/{ref}/preview")
    def preview(request: Request, ref: str) -> Response:
        auth = ui.authenticate(request)
        ui.require(auth, roles.VIEW_CASES, what="see case media", subject=f"evidence:{ref}")
        with ui.db.session() as s:
            _evidence_case(s, ref)
            data = review.vault.preview(
                s, ref=ref, actor=auth.actor.name, actor_role=auth.actor.role
            )
        return Response(
            data, media_type="image/jpeg", headers={"Cache-Control": "no-store, private"}
        )

    @router.post("/evidence/{ref}/reveal")
    def reveal(request: Request, ref: str, csrf_token: str = Form("")) -> Response:
        auth = ui.authenticate(request)
        ui.check_csrf(request, auth, csrf_token)
        ui.require(auth, roles.REVEAL, what="reveal media", subject=f"evidence:{ref}")
        assert auth.actor.user_id is not None
        limit = review.config.exposure_daily_limit
        with ui.db.session() as s:
            case_id = _evidence_case(s, ref)
            count = review_repo.increment_exposure(
                s, user_id=auth.actor.user_id, day=_today(), limit=limit
            )
            if count is None:
                review.audit.record(
                    s,
                    action=names.EVIDENCE_REVEAL_REFUSED,
                    subject_type="evidence",
                    subject_id=ref,
                    actor=auth.actor.name,
                    actor_role=auth.actor.role,
                    details={"case_id": case_id, "reason": "daily exposure limit", "limit": limit},
                )
            else:
                review.audit.record(
                    s,
                    action=names.EVIDENCE_REVEAL,
                    subject_type="evidence",
                    subject_id=ref,
                    actor=auth.actor.name,
                    actor_role=auth.actor.role,
                    details={"case_id": case_id, "exposure_today": count, "limit": limit},
                )
        if count is None:
            msg = (
                f"You have reached today's limit of {limit} revealed items. "
                "Take a break; the counter resets at 00:00 UTC."
            )
            if request.headers.get("accept", "").startswith("application/json"):
                return JSONResponse({"error": "exposure_limit", "message": msg}, 429)
            return ui.error_page(request, 429, msg)
        grant = tokens.make_grant(ui.secret, ref=ref, user_id=auth.actor.user_id)
        url = f"{ui.prefix}/evidence/{ref}/original?grant={grant}"
        if request.headers.get("accept", "").startswith("application/json"):
            return JSONResponse({"url": url, "exposure": count, "limit": limit})
        return RedirectResponse(
            f"{ui.prefix}/cases/{case_id}?revealed={ref}&grant={grant}", status_code=303
        )

    @router.get("/evidence/{ref}/original")
    def original(request: Request, ref: str, grant: str = "") -> Response:
        auth = ui.authenticate(request)
        ui.require(auth, roles.REVEAL, what="see unblurred media", subject=f"evidence:{ref}")
        assert auth.actor.user_id is not None
        if not tokens.check_grant(ui.secret, grant, ref=ref, user_id=auth.actor.user_id):
            raise Forbidden("reveal the item on its case page first")
        with ui.db.session() as s:
            row, data = review.vault.read(
                s,
                ref=ref,
                actor=auth.actor.name,
                actor_role=auth.actor.role,
                purpose="display after reveal",
                action=names.KEY_USED,
            )
            media_type = (
                row.media_type
                if row.media_type.startswith("image/")
                else "application/octet-stream"
            )
        return Response(data, media_type=media_type, headers={"Cache-Control": "no-store, private"})

    @router.post("/evidence/{ref}/export")
    def export(
        request: Request, ref: str, purpose: str = Form(""), csrf_token: str = Form("")
    ) -> Response:
        auth = ui.authenticate(request)
        ui.check_csrf(request, auth, csrf_token)
        ui.require(auth, roles.EXPORT, what="export evidence", subject=f"evidence:{ref}")
        with ui.db.session() as s:
            _evidence_case(s, ref)
            data = review.vault.export(
                s,
                ref=ref,
                actor=auth.actor.name,
                actor_role=auth.actor.role,
                purpose=purpose or "report",
            )
        return Response(
            data,
            media_type="application/zip",
            headers={"Content-Disposition": f'attachment; filename="evidence-{ref}.zip"'},
        )

    # -- appeals ---------------------------------------------------------------------------

    @router.get("/appeals", response_class=HTMLResponse)
    def appeals(request: Request) -> Response:
        auth = ui.authenticate(request)
        ui.require(auth, roles.DECIDE_APPEAL, what="see appeals", subject="appeals")
        with ui.db.session() as s:
            rows = [
                {
                    "id": a.id,
                    "case_id": a.case_id,
                    "state": a.state,
                    "filed_at": a.filed_at,
                    "outcome": a.outcome,
                    "decided_at": a.decided_at,
                    "account": a.account,
                }
                for a in review_repo.list_appeals(s)
            ]
        return ui.render(request, "appeals.html", auth=auth, appeals=rows)

    @router.get("/appeals/{appeal_id}", response_class=HTMLResponse)
    def appeal_page(request: Request, appeal_id: int) -> Response:
        auth = ui.authenticate(request)
        ui.require(auth, roles.DECIDE_APPEAL, what="see appeals", subject=f"appeal:{appeal_id}")
        with ui.db.session() as s:
            a = review_repo.get_appeal(s, appeal_id=appeal_id)
            if a is None:
                raise NotFound(f"no appeal {appeal_id}")
            own = auth.actor.user_id in review_repo.decider_ids(s, case_id=a.case_id)
            appeal = {
                "id": a.id,
                "case_id": a.case_id,
                "state": a.state,
                "statement": a.statement,
                "account": a.account,
                "filed_at": a.filed_at,
                "outcome": a.outcome,
                "decided_at": a.decided_at,
                "note": a.note,
                "version": a.version,
            }
        ctx = _case_context(auth, int(str(appeal["case_id"])))
        return ui.render(
            request,
            "appeal.html",
            auth=auth,
            appeal=appeal,
            own_case=own,
            outcomes=APPEAL_OUTCOMES,
            **ctx,
        )

    @router.post("/appeals/{appeal_id}/decide")
    def decide_appeal(
        request: Request,
        appeal_id: int,
        version: int = Form(...),
        outcome: str = Form(""),
        note: str = Form(""),
        csrf_token: str = Form(""),
    ) -> Response:
        auth = ui.authenticate(request)
        ui.check_csrf(request, auth, csrf_token)
        ui.require(auth, roles.DECIDE_APPEAL, what="decide appeals", subject=f"appeal:{appeal_id}")
        with ui.db.session() as s:
            review.cases.decide_appeal(
                s,
                appeal_id=appeal_id,
                expected_version=version,
                outcome=outcome,
                note=note,
                actor=auth.actor,
            )
        return RedirectResponse(f"{ui.prefix}/appeals?decided={appeal_id}", status_code=303)

    # -- statistics and audit ----------------------------------------------------------------

    @router.get("/dashboard", response_class=HTMLResponse)
    def dashboard(request: Request) -> Response:
        auth = ui.authenticate(request)
        ui.require(auth, roles.VIEW_STATS, what="see statistics", subject="dashboard")
        with ui.db.session() as s:
            stats = review_stats(s)
        return ui.render(request, "dashboard.html", auth=auth, stats=stats)

    @router.get("/audit", response_class=HTMLResponse)
    def audit_page(request: Request, before: int | None = None) -> Response:
        auth = ui.authenticate(request)
        ui.require(auth, roles.VIEW_AUDIT, what="see the audit trail", subject="audit")
        with ui.db.session() as s:
            # Incremental: from the last head a full check verified (a marker MAC'd with the
            # integrity key), so a load costs the new records only; `amparo verify` walks all.
            sealer = getattr(ui.db, "sealer", None)
            start = integrity_marker.read(s, sealer) if sealer is not None else None
            result = review.audit.verify_incremental(s, start=start)
            if result.ok and sealer is not None:
                integrity_marker.write(s, sealer, result.head_seq, result.head_hash)
            verified_from = result.head_seq - result.records if result.ok else None
            records = [
                {
                    "seq": r.seq,
                    "created_at": r.created_at,
                    "actor": r.actor,
                    "actor_role": r.actor_role,
                    "action": r.action,
                    "subject": f"{r.subject_type}:{r.subject_id}",
                    "details": json.dumps(r.details, sort_keys=True)[:300],
                    "hash": r.hash,
                }
                for r in audit_repo.list_records(s, limit=100, before_seq=before)
            ]
            checkpoints = audit_repo.list_checkpoints(s, limit=10)
        return ui.render(
            request,
            "audit.html",
            auth=auth,
            result=result,
            verified_from=verified_from,
            records=records,
            checkpoints=checkpoints,
        )

    @router.post("/audit/checkpoint")
    def audit_checkpoint(request: Request, csrf_token: str = Form("")) -> Response:
        auth = ui.authenticate(request)
        ui.check_csrf(request, auth, csrf_token)
        ui.require(auth, roles.VIEW_AUDIT, what="export audit checkpoints", subject="audit")
        with ui.db.session() as s:
            cp = review.audit.checkpoint(s, actor=auth.actor.name)
        return Response(
            json.dumps(cp, indent=2, sort_keys=True),
            media_type="application/json",
            headers={
                "Content-Disposition": f'attachment; filename="audit-checkpoint-{cp["seq"]}.json"'
            },
        )

    # -- static ------------------------------------------------------------------------------

    @router.get("/static/{name}")
    def static(request: Request, name: str) -> Response:
        path = STATIC_DIR / name
        if (
            "/" in name
            or name.startswith(".")
            or path.suffix not in STATIC_TYPES
            or not path.is_file()
        ):
            raise NotFound("no such file")
        return Response(
            path.read_bytes(),
            media_type=STATIC_TYPES[path.suffix],
            headers={"Cache-Control": "public, max-age=300"},
        )

    from amparo.ui.video_sheet import add_video_sheet_routes

    add_video_sheet_routes(router, ui)  # a video item's contact sheet
    try:  # the reports room's pages: legal reports, transparency, holds, deletions
        from amparo.ui.reports_pages import add_reports_routes
    except ModuleNotFoundError:
        pass
    else:
        add_reports_routes(router, ui, service)
    from amparo.ui.exchanges_page import add_exchanges_routes

    add_exchanges_routes(router, ui, service)
    return router
