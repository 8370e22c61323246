"""Errors Amparo raises on bad input or misconfiguration; entry points map them to clear messages."""

from __future__ import annotations


class AmparoError(Exception):
    """Base class: `code` is a stable machine-readable string, `status` the HTTP status it maps to."""

    code = "error"
    status = 400

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class BadInput(AmparoError):
    code = "bad_input"
    status = 400


class TooLarge(BadInput):
    code = "too_large"
    status = 413


class UnsupportedMedia(BadInput):
    code = "unsupported_media"
    status = 415


class NotFound(AmparoError):
    code = "not_found"
    status = 404


class Conflict(AmparoError):
    code = "conflict"
    status = 409


class Forbidden(AmparoError):
    code = "forbidden"
    status = 403


class Unauthorized(AmparoError):
    code = "unauthorized"
    status = 401


class ConfigurationError(AmparoError):
    code = "configuration_error"
    status = 500


class DetectorFailed(AmparoError):
    """A detector could not run (missing model, runtime error); policy decides fail-open/closed."""

    code = "detector_failed"
    status = 500
