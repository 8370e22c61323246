"""Errors the proxy answers with, rendered the way the OpenAI API renders them.

Body: {"error": {"message", "type", "param", "code"}} plus `amparo_reference` (the generation id
under which the attempt is in the ledger) when there is one. Messages are ours, short and fixed:
an upstream's own error text never reaches the caller (it may quote the upstream key)."""

from __future__ import annotations

from typing import Any

from amparo.errors import AmparoError

INVALID_REQUEST = "invalid_request_error"
API_ERROR = "api_error"
AUTH_ERROR = "authentication_error"
RATE_LIMIT = "rate_limit_error"
CONTENT_POLICY = "content_policy_violation"


class ProxyError(AmparoError):
    """An error answered to the proxy's caller. `stage` says where the flow stopped (ledger)."""

    status = 400
    code = "invalid_request"
    error_type = INVALID_REQUEST

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        param: str | None = None,
        error_type: str | None = None,
        stage: str = "input",
    ) -> None:
        super().__init__(message, code=code)
        if status is not None:
            self.status = status
        if error_type is not None:
            self.error_type = error_type
        self.param = param
        self.stage = stage


class RequestRejected(ProxyError):
    """The caller's request is malformed, incomplete or over a limit (HTTP 400/413)."""


class ContentPolicyRefusal(ProxyError):
    """The request was refused, or an output was blocked, by the policy."""

    code = CONTENT_POLICY

    def __init__(self, message: str, *, stage: str, verdict: Any = None) -> None:
        super().__init__(message, stage=stage)
        self.verdict = verdict


class UpstreamFailure(ProxyError):
    """The image generator timed out, failed or answered something unusable."""

    status = 502
    code = "upstream_error"
    error_type = API_ERROR

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        error_type: str | None = None,
    ) -> None:
        super().__init__(message, code=code, status=status, error_type=error_type, stage="upstream")


def error_body(err: ProxyError, reference: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "message": err.message if reference is None else f"{err.message} (reference {reference})",
        "type": err.error_type,
        "param": err.param,
        "code": err.code,
    }
    if reference is not None:
        body["amparo_reference"] = reference
    return {"error": body}


def internal_error() -> ProxyError:
    return ProxyError(
        "the Amparo proxy could not complete the request",
        code="internal_error",
        status=500,
        error_type=API_ERROR,
        stage="internal",
    )
