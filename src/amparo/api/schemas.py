"""Request/response schemas of the HTTP API (the API's own shape of each concept)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class SignalIn(BaseModel):
    type: str = Field(examples=["pdq"])
    value: str


class LookupIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    signals: list[SignalIn] = Field(min_length=1, max_length=1000)
    banks: list[str] | None = None


class BankIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    category: Literal["csam", "ncii", "other"]
    source: str = "local"
    description: str = ""
    pdq_threshold: int = Field(31, ge=0, le=128)
    negative: bool = False
    enabled: bool = True


class BankPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = None
    enabled: bool | None = None
    pdq_threshold: int | None = Field(None, ge=0, le=128)
    negative: bool | None = None
    description: str | None = None
    category: Literal["csam", "ncii", "other"] | None = None


class BankOut(BaseModel):
    name: str
    category: str
    source: str
    description: str
    enabled: bool
    negative: bool
    pdq_threshold: int
    entries: int | None = None


class EntryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    signal_type: str
    value: str
    opinion: Literal["positive", "negative", "disputed"] = "positive"
    note: str | None = Field(None, max_length=500)
    external_id: str | None = Field(None, max_length=200)
    metadata: dict[str, Any] | None = None


class EntriesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    entries: list[EntryIn] = Field(min_length=1, max_length=100_000)


class EntryPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    opinion: Literal["positive", "negative", "disputed"] | None = None
    enabled: bool | None = None
    note: str | None = Field(None, max_length=500)


# The stored columns' widths (store/tables_events.py EventRow): longer is a clear 422, never a database error.
ACCOUNT_MAX, SURFACE_MAX, JURISDICTION_MAX = 200, 50, 20


class PromptIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    prompt: str
    account: str | None = Field(None, max_length=ACCOUNT_MAX)
    surface: str | None = Field(None, max_length=SURFACE_MAX)
    jurisdiction: str | None = Field(None, max_length=JURISDICTION_MAX)
