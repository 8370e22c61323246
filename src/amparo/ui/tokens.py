"""Session tokens, CSRF tokens and reveal grants (all HMAC-bound to the server's secret).

- The session cookie holds a random token; the database holds its SHA-256 (a stolen
  database gives no usable cookie).
- CSRF: double-submit. The `amparo_csrf` cookie and the form field (or X-CSRF-Token header)
  must be equal AND equal to HMAC(secret, session token), so a token planted from elsewhere
  or taken from another session is refused.
- A reveal grant lets one user fetch one item's original for a short time after the
  deliberate, recorded reveal action.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

SESSION_COOKIE = "amparo_session"
CSRF_COOKIE = "amparo_csrf"
PRE_COOKIE = "amparo_pre"  # pre-sign-in token that the sign-in form's CSRF token is bound to
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
GRANT_SECONDS = 120


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _mac(secret: bytes, purpose: str, value: str) -> str:
    return hmac.new(secret, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def csrf_for_session(secret: bytes, session_token: str) -> str:
    return _mac(secret, "csrf", session_token)


def csrf_for_pre(secret: bytes, pre_token: str) -> str:
    return _mac(secret, "csrf-pre", pre_token)


def csrf_ok(expected: str, cookie_value: str | None, submitted: str | None) -> bool:
    if not cookie_value or not submitted:
        return False
    return hmac.compare_digest(cookie_value, submitted) and hmac.compare_digest(submitted, expected)


def make_grant(secret: bytes, *, ref: str, user_id: int, now: float | None = None) -> str:
    expires = int((now or time.time()) + GRANT_SECONDS)
    body = f"{ref}.{user_id}.{expires}"
    sig = _mac(secret, "grant", body)
    return base64.urlsafe_b64encode(f"{body}.{sig}".encode()).decode().rstrip("=")


def check_grant(secret: bytes, grant: str, *, ref: str, user_id: int) -> bool:
    try:
        raw = base64.urlsafe_b64decode(grant + "=" * (-len(grant) % 4)).decode()
        g_ref, g_user, g_exp, sig = raw.split(".")
    except (ValueError, UnicodeDecodeError):
        return False
    body = f"{g_ref}.{g_user}.{g_exp}"
    if not hmac.compare_digest(sig, _mac(secret, "grant", body)):
        return False
    return g_ref == ref and g_user == str(user_id) and int(g_exp) >= time.time()
