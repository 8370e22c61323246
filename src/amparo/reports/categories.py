"""Amparo's labels and decisions in the vocabularies of the DSA (Transparency Database keys, the
categories of Implementing Regulation 2024/2835 Annex I Part 2) and of NCMEC.

One table, read by the statements of reasons, the transparency report and the evidence package, so
the three always classify a decision the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ILLEGAL = "DECISION_GROUND_ILLEGAL_CONTENT"
INCOMPATIBLE = "DECISION_GROUND_INCOMPATIBLE_CONTENT"


@dataclass(frozen=True)
class Category:
    category: str  # STATEMENT_CATEGORY_*
    keyword: str  # KEYWORD_*
    ground: str  # ILLEGAL | INCOMPATIBLE
    legal_ground: str  # what a statement cites (no personal data)
    severity: int  # the most severe label of a decision names its category


_CSAM_LAW = "Directive 2011/93/EU art. 5; Código Penal art. 189 (ES); 18 U.S.C. 2256"
_NCII_LAW = "Directive (EU) 2024/1385 art. 5"
_TC = "Terms of service: sexual content and synthetic media rules"

CATEGORIES: dict[str, Category] = {
    "csam_known": Category(
        "STATEMENT_CATEGORY_PROTECTION_OF_MINORS", "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL", ILLEGAL, _CSAM_LAW, 100
    ),
    "csam_suspected": Category(
        "STATEMENT_CATEGORY_PROTECTION_OF_MINORS", "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL", ILLEGAL, _CSAM_LAW, 95
    ),
    "csam_request": Category(
        "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
        "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE",
        ILLEGAL,
        _CSAM_LAW,
        90,
    ),
    "ncii_known": Category(
        "STATEMENT_CATEGORY_CYBER_VIOLENCE", "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING", ILLEGAL, _NCII_LAW, 80
    ),
    "sexual_deepfake": Category(
        "STATEMENT_CATEGORY_CYBER_VIOLENCE", "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE", ILLEGAL, _NCII_LAW, 75
    ),
    "nudify_request": Category(
        "STATEMENT_CATEGORY_CYBER_VIOLENCE", "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE", ILLEGAL, _NCII_LAW, 70
    ),
    "minor_present": Category(
        "STATEMENT_CATEGORY_PROTECTION_OF_MINORS", "KEYWORD_AGE_SPECIFIC_RESTRICTIONS_MINORS", INCOMPATIBLE, _TC, 50
    ),
    "adult_explicit": Category(
        "STATEMENT_CATEGORY_OTHER_VIOLATION_TC", "KEYWORD_ADULT_SEXUAL_MATERIAL", INCOMPATIBLE, _TC, 40
    ),
    "sexual_adult_request": Category(
        "STATEMENT_CATEGORY_OTHER_VIOLATION_TC", "KEYWORD_ADULT_SEXUAL_MATERIAL", INCOMPATIBLE, _TC, 35
    ),
    "hash_match": Category("STATEMENT_CATEGORY_OTHER_VIOLATION_TC", "KEYWORD_OTHER", INCOMPATIBLE, _TC, 20),
    "ai_generated": Category("STATEMENT_CATEGORY_OTHER_VIOLATION_TC", "KEYWORD_OTHER", INCOMPATIBLE, _TC, 10),
    "detector_failure": Category("STATEMENT_CATEGORY_OTHER_VIOLATION_TC", "KEYWORD_OTHER", INCOMPATIBLE, _TC, 5),
}
UNLABELLED = Category("STATEMENT_CATEGORY_OTHER_VIOLATION_TC", "KEYWORD_OTHER", INCOMPATIBLE, _TC, 0)

# Event decisions that restrict the content (DSA Art. 17 / 24(5)); "allow" is not a decision to report.
RESTRICTIVE_DECISIONS = ("block", "refuse", "age_restrict", "label")
VISIBILITY = {
    "block": "DECISION_VISIBILITY_CONTENT_REMOVED",
    "refuse": "DECISION_VISIBILITY_CONTENT_DISABLED",
    "age_restrict": "DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED",
    "label": "DECISION_VISIBILITY_CONTENT_LABELLED",
}
ACCOUNT = {"suspend": "DECISION_ACCOUNT_SUSPENDED", "ban": "DECISION_ACCOUNT_TERMINATED"}
PROVISION = {"restrict": "DECISION_PROVISION_PARTIAL_SUSPENSION"}

# Confirmed labels that are CSAM for NCMEC (18 U.S.C. 2258A): suspected material only once a person
# confirmed it, known-hash matches as the policy says.
NCMEC_LABELS = ("csam_known", "csam_suspected")
NCMEC_INCIDENT_TYPE = "Child Pornography (possession, manufacture, and distribution)"


def category_for(labels: list[str] | tuple[str, ...]) -> Category:
    """The category of the most severe label (a decision has one main category)."""
    found = [CATEGORIES[lb] for lb in labels if lb in CATEGORIES]
    return max(found, key=lambda c: c.severity) if found else UNLABELLED


def keyword_for(labels: list[str] | tuple[str, ...], *, generated: bool) -> str:
    """Material made with generative AI gets the deepfake keyword of its category."""
    cat = category_for(labels)
    if generated and cat.keyword == "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL":
        return "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE"
    if generated and cat.keyword == "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING":
        return "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE"
    return cat.keyword


def automated_system(verdict: dict[str, Any], kind: str) -> str:
    """Which automated means flagged an item: the one whose accuracy the transparency report states."""
    if verdict.get("matches"):
        return "hash_matching"
    if kind in ("prompt", "edit_request") and not verdict.get("classifications"):
        return "prompt_gate"
    stages = {str(c.get("stage")) for c in verdict.get("classifications", []) or [] if isinstance(c, dict)}
    if stages and stages <= {"prompt"}:
        return "prompt_gate"
    return "image_classifiers" if stages else "policy_rules"
