"""DSA statements of reasons (Art. 17, sent to the Transparency Database under Art. 24(5)) from decision
records: the JSON statement, its keyed puid, and the lint that keeps personal data out of free text."""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from amparo.errors import BadInput
from amparo.reports.categories import ACCOUNT, ILLEGAL, PROVISION, VISIBILITY, category_for
from amparo.reports.record import DecisionRecord
from amparo.reports.sor_schema import validate

PUID_KEY_INFO = b"amparo-dsa-puid/1"
AUTOMATED_DECISION = {
    "fully": "AUTOMATED_DECISION_FULLY",
    "partially": "AUTOMATED_DECISION_PARTIALLY",
    "not": "AUTOMATED_DECISION_NOT_AUTOMATED",
}
SYSTEM_WORDS = {
    "hash_matching": "a match against a hash list of known material",
    "prompt_gate": "the automated check of generation requests",
    "image_classifiers": "automated image classifiers",
    "policy_rules": "the platform's automated content rules",
    "human_review": "a report reviewed by a moderator",
}
KIND_WORDS = {
    "image": "an uploaded image",
    "generated_image": "a generated image",
    "prompt": "an image generation request",
    "edit_request": "an image edit request",
}

# Personal data that must never reach a public database (the TDB publishes every statement).
_PERSONAL = (
    ("e-mail address", re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")),
    ("IP address", re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b|\b(?:[0-9a-fA-F]{1,4}:){3,7}[0-9a-fA-F]{1,4}\b")),
    ("phone number", re.compile(r"(?<![\w])\+?\d[\d \-().]{7,}\d(?![\w])")),
    ("user handle", re.compile(r"(?<![\w])@\w{2,}")),
    ("web address", re.compile(r"https?://\S+|www\.\S+")),
)
_FACTS_REVIEWED = "A trained moderator reviewed and confirmed the decision."
_FACTS_AUTOMATED = "The decision was taken by automated means without prior human review."
_FACTS_FIXED = "The platform restricted after identified it as " + _FACTS_REVIEWED + " " + _FACTS_AUTOMATED
_OTHER_SPECIFICATION = "Policy on synthetic and sexual imagery"
_ILLEGAL_EXPLANATION = "The content falls under the cited provisions on the material described in the facts."
_TC_EXPLANATION = "The content is not allowed by the platform's terms of service."
FREE_TEXT = (
    "decision_facts",
    "illegal_content_explanation",
    "incompatible_content_explanation",
    "illegal_content_legal_ground",
    "incompatible_content_ground",
    "category_specification_other",
    "content_type_other",
    "decision_visibility_other",
    "source_identity",
)


def puid_key(master_key: bytes) -> bytes:
    """The puid key, derived from the master key (nothing secret in the database)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=PUID_KEY_INFO).derive(master_key)


def puid_for(key: bytes, decision_id: str) -> str:
    """A keyed hash of the decision id: stable (retries find it), and not reversible to our ids."""
    return "amparo-" + hmac.new(key, decision_id.encode(), hashlib.sha256).hexdigest()[:40]


def lint_personal_data(statement: dict[str, Any], *, known: tuple[str, ...] = ()) -> list[str]:
    """Problems found in free-text fields: an e-mail, IP, phone number, handle, link, or a known account id."""
    problems = []
    for key in FREE_TEXT:
        text = statement.get(key)
        if not text:
            continue
        for what, rx in _PERSONAL:
            if rx.search(str(text)):
                problems.append(f"{key} contains what looks like a {what}")
        for k in known:
            if _mentions(str(text), k):
                problems.append(f"{key} contains the account identifier")
    return problems


@functools.cache
def _template_words() -> frozenset[str]:
    from amparo.reports.categories import CATEGORIES

    words: set[str] = set()
    texts = [*SYSTEM_WORDS.values(), *KIND_WORDS.values(), *(c.legal_ground for c in CATEGORIES.values())]
    texts += [c.keyword.removeprefix("KEYWORD_").replace("_", " ") for c in CATEGORIES.values()]
    texts += [_FACTS_FIXED, _ILLEGAL_EXPLANATION, _TC_EXPLANATION, _OTHER_SPECIFICATION]
    for t in texts:
        words.update(w.lower() for w in re.findall(r"[\w-]+", t))
    return frozenset(words)


def _mentions(text: str, ident: str) -> bool:
    """The identifier as a whole token. An id that is one of our own template words (an account named
    "image") is no leak: the statement's wording is fixed, so finding it there proves nothing."""
    if not ident or len(ident) < 3 or ident.lower() in _template_words():
        return False
    return re.search(r"(?<![\w-])" + re.escape(ident) + r"(?![\w-])", text, re.IGNORECASE) is not None


@dataclass(frozen=True)
class SorConfig:
    reference_url: str | None = None  # the terms of service or law page the statement cites
    territorial_scope: tuple[str, ...] = ()  # default scope when a profile names no member state


def build_statement(rec: DecisionRecord, *, key: bytes, config: SorConfig = SorConfig()) -> dict[str, Any]:
    cat = category_for(rec.effective_labels)
    content_type = ["CONTENT_TYPE_TEXT" if rec.kind in ("prompt",) else "CONTENT_TYPE_IMAGE"]
    if rec.kind == "edit_request":
        content_type = ["CONTENT_TYPE_IMAGE", "CONTENT_TYPE_TEXT"]
    if rec.generated:
        content_type.append("CONTENT_TYPE_SYNTHETIC_MEDIA")
    how = SYSTEM_WORDS.get(rec.system, "automated means")
    what = KIND_WORDS.get(rec.kind, "content")
    facts = (
        f"The platform restricted {what} after {how} identified it as "
        f"{cat.keyword.removeprefix('KEYWORD_').replace('_', ' ').lower()}."
    )
    if rec.reviewer_outcome == "confirm":
        facts += " " + _FACTS_REVIEWED
    elif rec.automated_decision == "fully":
        facts += " " + _FACTS_AUTOMATED
    s: dict[str, Any] = {
        "decision_ground": cat.ground,
        "category": cat.category,
        "category_specification": [rec.keyword],
        "content_type": sorted(set(content_type)),
        "content_date": rec.content_at.date().isoformat(),
        "application_date": rec.applied_at.date().isoformat(),
        "decision_facts": facts,
        "source_type": "SOURCE_VOLUNTARY",
        "automated_detection": "Yes" if rec.automated_detection else "No",
        "automated_decision": AUTOMATED_DECISION[rec.automated_decision],
        "puid": puid_for(key, rec.decision_id),
    }
    if rec.keyword == "KEYWORD_OTHER":
        s["category_specification_other"] = _OTHER_SPECIFICATION
    vis = VISIBILITY.get(rec.decision)
    if vis is None and rec.decision == "confirm":
        vis = "DECISION_VISIBILITY_CONTENT_REMOVED"
    if vis:
        s["decision_visibility"] = [vis]
    if rec.account_action in ACCOUNT:
        s["decision_account"] = ACCOUNT[rec.account_action]
    elif rec.account_action in PROVISION:
        s["decision_provision"] = PROVISION[rec.account_action]
    if cat.ground == ILLEGAL:
        s["illegal_content_legal_ground"] = cat.legal_ground
        s["illegal_content_explanation"] = _ILLEGAL_EXPLANATION
    else:
        s["incompatible_content_ground"] = cat.legal_ground
        s["incompatible_content_explanation"] = _TC_EXPLANATION
        s["incompatible_content_illegal"] = "No"
    scope = [rec.territory] if rec.territory else list(config.territorial_scope)
    if scope:
        s["territorial_scope"] = scope
    if config.reference_url:
        s["decision_ground_reference_url"] = config.reference_url
    return s


def checked_statement(rec: DecisionRecord, *, key: bytes, config: SorConfig = SorConfig()) -> dict[str, Any]:
    """The statement, refused (BadInput) if the database would reject it or free text holds personal data."""
    s = build_statement(rec, key=key, config=config)
    errors = validate(s)
    if errors:
        raise BadInput(f"statement for {rec.decision_id} is invalid: {errors}", code="invalid_statement")
    problems = lint_personal_data(s, known=tuple(x for x in (rec.account,) if x))
    if problems:
        raise BadInput(f"statement for {rec.decision_id}: {'; '.join(problems)}", code="personal_data")
    return s
