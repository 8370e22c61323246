"""The victim's page /protect and its small JSON API (/protect/api/*).

The page hashes the chosen file in a Web Worker (static/protect-worker.js) and sends only hashes:
there is no form that could post the file, the page's CSP lets it connect to /protect/api/ only,
the worker's own CSP lets it connect nowhere, and every /protect request body is capped at a few
kilobytes (api/app.py). Case status and withdrawal also work without JavaScript (/protect/case)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, TypeVar

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from jinja2 import Environment, PackageLoader, select_autoescape
from pydantic import BaseModel, ConfigDict, Field

from amparo.errors import AmparoError, NotFound
from amparo.protect import challenge
from amparo.protect.config import ProtectSettings
from amparo.protect.submissions import SelfSubmissions, SubmittedHash, derive_key
from amparo.store import rate_limits_repo
from amparo.ui.protect_text import LANGUAGE_NAMES, LANGUAGES, TEXT, pick_language

STATIC_DIR = Path(__file__).parent / "static"
STATIC_FILES = {
    "protect.js": "text/javascript; charset=utf-8",
    "protect-worker.js": "text/javascript; charset=utf-8",
    "protect.css": "text/css; charset=utf-8",
}
BASE_CSP = "default-src 'none'; img-src 'self'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'"
WORKER_CSP = "default-src 'none'"  # a worker's own policy: it may connect nowhere


class RateLimited(AmparoError):
    code = "rate_limited"
    status = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many requests; retry after {retry_after} s")
        self.retry_after = retry_after


class HashIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["pdq", "md5"]
    value: str = Field(max_length=64)
    kind: Literal["image", "video"]
    quality: int | None = Field(default=None, ge=0, le=100)


class SubmitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    challenge: str = Field(max_length=200)
    counter: int = Field(ge=0, lt=2**53)
    under_18: bool
    confirm: Literal[True]
    language: str = Field(default="es", max_length=8)
    hashes: list[HashIn] = Field(min_length=1, max_length=64)


class CaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    case_number: str = Field(max_length=40)
    secret: str = Field(max_length=80)


def page_csp(request: Request) -> str:
    origin = f"{request.url.scheme}://{request.url.netloc}"
    return (
        f"{BASE_CSP}; script-src 'self'; worker-src 'self'; connect-src {origin}/protect/api/; form-action 'none'"
    )


R = TypeVar("R", bound=Response)


def _headers(response: R, csp: str) -> R:
    h = response.headers
    h["Content-Security-Policy"] = csp
    h["X-Frame-Options"] = "DENY"
    h["X-Content-Type-Options"] = "nosniff"
    h["Referrer-Policy"] = "no-referrer"
    h["Cross-Origin-Opener-Policy"] = "same-origin"
    h["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    h.setdefault("Cache-Control", "no-store")
    return response


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def build_protect_router(service: Any, *, config: ProtectSettings | None = None) -> APIRouter:
    from amparo.cases.components import load_session_secret

    cfg = config or ProtectSettings()
    if not cfg.enabled:  # AMPARO_PROTECT_ENABLED=false: no /protect routes at all
        return APIRouter()
    secret = load_session_secret(service.settings)
    pow_key = derive_key(secret, "pow")
    desk = SelfSubmissions(
        service.db,
        service.audit,
        key=derive_key(secret, "case-secret"),
        config=cfg,
        quality_floor=service.settings.pdq_quality_floor,
    )
    env = Environment(loader=PackageLoader("amparo.ui", "templates"), autoescape=select_autoescape(["html"]))
    router = APIRouter(tags=["protect"])  # the JSON API is in /openapi.json; the pages are not

    def limit(request: Request, name: str, per_window: int, window: int) -> None:
        if per_window <= 0:
            return
        with service.db.session() as s:
            hit = rate_limits_repo.hit(s, bucket=f"protect-{name}:{_client(request)}", window_seconds=window)
        if hit.count > per_window:
            raise RateLimited(hit.retry_after)

    def api_error(e: AmparoError) -> Response:
        body = {"error": {"code": e.code, "message": e.message}}
        response = JSONResponse(body, status_code=e.status)
        if isinstance(e, RateLimited):
            response.headers["Retry-After"] = str(e.retry_after)
        return _headers(response, "default-src 'none'")

    def render(request: Request, template: str, lang: str, status: int = 200, **ctx: Any) -> HTMLResponse:
        html = env.get_template(template).render(
            t=TEXT[lang], lang=lang, languages=LANGUAGES, language_names=LANGUAGE_NAMES, path=request.url.path, **ctx
        )
        return HTMLResponse(html, status_code=status)

    # -- pages -------------------------------------------------------------------------------

    @router.get("/protect", response_class=HTMLResponse, include_in_schema=False)
    def protect_page(request: Request, lang: str | None = None) -> Response:
        language = pick_language(lang, request.headers.get("accept-language"))
        response = render(request, "protect.html", language, texts=TEXT[language], pow_bits=cfg.pow_bits)
        response.headers["Content-Language"] = language
        response.headers["Vary"] = "Accept-Language"
        return _headers(response, page_csp(request))

    case_csp = f"{BASE_CSP}; script-src 'none'; connect-src 'none'; form-action 'self'"

    @router.get("/protect/case", response_class=HTMLResponse, include_in_schema=False)
    def case_page(request: Request, lang: str | None = None) -> Response:
        language = pick_language(lang, request.headers.get("accept-language"))
        return _headers(render(request, "protect_case.html", language, view=None, error=None), case_csp)

    @router.post("/protect/case", response_class=HTMLResponse, include_in_schema=False)
    def case_form(
        request: Request,
        case_number: str = Form("", max_length=40),
        secret: str = Form("", max_length=80),
        action: str = Form("status", max_length=20),
        lang: str = Form("", max_length=8),
    ) -> Response:
        language = pick_language(lang, request.headers.get("accept-language"))
        try:
            limit(request, "case", cfg.lookups_per_window, cfg.lookup_window_seconds)
            if action == "withdraw":
                view = desk.withdraw(case_number=case_number, secret=secret)
            else:
                view = desk.status(case_number=case_number, secret=secret)
        except RateLimited as e:
            page = render(request, "protect_case.html", language, 429, view=None, error=TEXT[language]["rate_limited"])
            page.headers["Retry-After"] = str(e.retry_after)
            return _headers(page, case_csp)
        except NotFound:
            page = render(request, "protect_case.html", language, 404, view=None, error=TEXT[language]["not_found"])
            return _headers(page, case_csp)
        return _headers(render(request, "protect_case.html", language, view=view, error=None), case_csp)

    @router.get("/protect/static/{name}", include_in_schema=False)
    def static(name: str) -> Response:
        if name not in STATIC_FILES:
            raise NotFound("no such file")
        response = Response((STATIC_DIR / name).read_bytes(), media_type=STATIC_FILES[name])
        response.headers["Cache-Control"] = "public, max-age=300"
        return _headers(response, WORKER_CSP if name == "protect-worker.js" else "default-src 'none'")

    # -- JSON API ----------------------------------------------------------------------------

    @router.post("/protect/api/challenge", summary="A proof-of-work challenge for a self-submission")
    def new_challenge(request: Request) -> Response:
        try:
            limit(request, "challenge", cfg.challenges_per_window, cfg.challenge_window_seconds)
        except RateLimited as e:
            return api_error(e)
        c = challenge.issue(pow_key, bits=cfg.pow_bits, ttl_seconds=cfg.challenge_ttl_seconds)
        body = {"challenge": c.token, "bits": c.bits, "expires_at": c.expires_at}
        return _headers(JSONResponse(body), "default-src 'none'")

    @router.post("/protect/api/submit", summary="Submit hashes of one's own images (no file): case number + secret")
    def submit(request: Request, body: SubmitIn) -> Response:
        try:
            limit(request, "submit", cfg.submissions_per_window, cfg.submission_window_seconds)
            solved = challenge.verify(
                pow_key, body.challenge, body.counter, min_bits=cfg.pow_bits, ttl_seconds=cfg.challenge_ttl_seconds
            )
            receipt = desk.submit(
                hashes=[SubmittedHash(h.type, h.value, h.kind, h.quality) for h in body.hashes],
                under_18=body.under_18,
                language=body.language if body.language in LANGUAGES else "es",
                pow_nonce=solved.nonce,
            )
        except AmparoError as e:
            return api_error(e)
        out = {
            "case_number": receipt.case_number,
            "secret": receipt.secret,
            "category": receipt.category,
            "banked": receipt.banked,
            "skipped": receipt.skipped,
        }
        return _headers(JSONResponse(out, status_code=201), "default-src 'none'")

    def case_call(request: Request, body: CaseIn, withdraw: bool) -> Response:
        try:
            limit(request, "case", cfg.lookups_per_window, cfg.lookup_window_seconds)
            fn = desk.withdraw if withdraw else desk.status
            view = fn(case_number=body.case_number, secret=body.secret)
        except AmparoError as e:
            return api_error(e)
        return _headers(JSONResponse(view), "default-src 'none'")

    @router.post("/protect/api/status", summary="A self-submission's status (case number + secret)")
    def status(request: Request, body: CaseIn) -> Response:
        return case_call(request, body, withdraw=False)

    @router.post("/protect/api/withdraw", summary="Withdraw a self-submission's hashes from every self-submitted bank")
    def withdraw(request: Request, body: CaseIn) -> Response:
        return case_call(request, body, withdraw=True)

    return router
