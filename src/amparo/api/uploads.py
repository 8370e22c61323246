"""Read uploads with the byte limit enforced while reading (never buffer more than the limit)."""

from __future__ import annotations

from fastapi import UploadFile

from amparo.errors import BadInput, TooLarge


def read_upload(upload: UploadFile | None, limit: int, field: str = "file") -> bytes:
    if upload is None:
        raise BadInput(f"multipart field {field!r} with the image is required", code="missing_file")
    data = upload.file.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(f"upload is over the limit of {limit} bytes")
    if not data:
        raise BadInput("the uploaded file is empty", code="empty")
    return data
