"""The DSA Transparency Database statement-of-reasons schema (API v1 routes, the "v2" attribute set since
1 July 2025): the enum keys and the request rules, as enforced by the database's own validator
(digital-services-act/transparency-database, app/Http/Requests/StatementStoreRequest.php and
app/Models/Statement.php, read at commit 69e80a0). `validate` is our own implementation of those rules;
the stand-in server and the exporter both call it, so nothing leaves Amparo that the database would refuse.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

DECISION_VISIBILITY = (
    "DECISION_VISIBILITY_CONTENT_REMOVED",
    "DECISION_VISIBILITY_CONTENT_DISABLED",
    "DECISION_VISIBILITY_CONTENT_DEMOTED",
    "DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED",
    "DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED",
    "DECISION_VISIBILITY_CONTENT_LABELLED",
    "DECISION_VISIBILITY_OTHER",
)
DECISION_MONETARY = ("DECISION_MONETARY_SUSPENSION", "DECISION_MONETARY_TERMINATION", "DECISION_MONETARY_OTHER")
DECISION_PROVISION = (
    "DECISION_PROVISION_PARTIAL_SUSPENSION",
    "DECISION_PROVISION_TOTAL_SUSPENSION",
    "DECISION_PROVISION_PARTIAL_TERMINATION",
    "DECISION_PROVISION_TOTAL_TERMINATION",
)
DECISION_ACCOUNT = ("DECISION_ACCOUNT_SUSPENDED", "DECISION_ACCOUNT_TERMINATED")
ACCOUNT_TYPE = ("ACCOUNT_TYPE_BUSINESS", "ACCOUNT_TYPE_PRIVATE")
DECISION_GROUND = ("DECISION_GROUND_ILLEGAL_CONTENT", "DECISION_GROUND_INCOMPATIBLE_CONTENT")
INCOMPATIBLE_CONTENT_ILLEGAL = ("Yes", "No")
CONTENT_TYPE = (
    "CONTENT_TYPE_APP",
    "CONTENT_TYPE_AUDIO",
    "CONTENT_TYPE_IMAGE",
    "CONTENT_TYPE_OTHER",
    "CONTENT_TYPE_PRODUCT",
    "CONTENT_TYPE_SYNTHETIC_MEDIA",
    "CONTENT_TYPE_TEXT",
    "CONTENT_TYPE_VIDEO",
)
CATEGORY = tuple(
    "STATEMENT_CATEGORY_" + c
    for c in (
        "ANIMAL_WELFARE",
        "CONSUMER_INFORMATION",
        "CYBER_VIOLENCE",
        "CYBER_VIOLENCE_AGAINST_WOMEN",
        "DATA_PROTECTION_AND_PRIVACY_VIOLATIONS",
        "ILLEGAL_OR_HARMFUL_SPEECH",
        "INTELLECTUAL_PROPERTY_INFRINGEMENTS",
        "NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS",
        "NOT_SPECIFIED_NOTICE",
        "OTHER_VIOLATION_TC",
        "PROTECTION_OF_MINORS",
        "RISK_FOR_PUBLIC_SECURITY",
        "SCAMS_AND_FRAUD",
        "SELF_HARM",
        "UNSAFE_AND_PROHIBITED_PRODUCTS",
        "VIOLENCE",
    )
)
KEYWORD = (
    "KEYWORD_ADULT_SEXUAL_MATERIAL",
    "KEYWORD_AGE_SPECIFIC_RESTRICTIONS",
    "KEYWORD_AGE_SPECIFIC_RESTRICTIONS_MINORS",
    "KEYWORD_ANIMAL_HARM",
    "KEYWORD_BIOMETRIC_DATA_BREACH",
    "KEYWORD_BULLYING_AGAINST_GIRLS",
    "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL",
    "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE",
    "KEYWORD_CONTENT_PROMOTING_EATING_DISORDERS",
    "KEYWORD_COORDINATED_HARM",
    "KEYWORD_COPYRIGHT_INFRINGEMENT",
    "KEYWORD_CYBER_BULLYING_INTIMIDATION",
    "KEYWORD_CYBER_HARASSMENT",
    "KEYWORD_CYBER_HARASSMENT_AGAINST_WOMEN",
    "KEYWORD_CYBER_INCITEMENT",
    "KEYWORD_CYBER_STALKING",
    "KEYWORD_CYBER_STALKING_AGAINST_WOMEN",
    "KEYWORD_DATA_FALSIFICATION",
    "KEYWORD_DEFAMATION",
    "KEYWORD_DESIGN_INFRINGEMENT",
    "KEYWORD_DISCRIMINATION",
    "KEYWORD_FEMALE_GENDERED_DISINFORMATION",
    "KEYWORD_GEOGRAPHIC_INDICATIONS_INFRINGEMENT",
    "KEYWORD_GEOGRAPHICAL_REQUIREMENTS",
    "KEYWORD_GOODS_SERVICES_NOT_PERMITTED",
    "KEYWORD_GROOMING_SEXUAL_ENTICEMENT_MINORS",
    "KEYWORD_HATE_SPEECH",
    "KEYWORD_HIDDEN_ADVERTISEMENT",
    "KEYWORD_HUMAN_EXPLOITATION",
    "KEYWORD_HUMAN_TRAFFICKING",
    "KEYWORD_ILLEGAL_ORGANIZATIONS",
    "KEYWORD_IMPERSONATION_ACCOUNT_HIJACKING",
    "KEYWORD_INAUTHENTIC_ACCOUNTS",
    "KEYWORD_INAUTHENTIC_LISTINGS",
    "KEYWORD_INAUTHENTIC_USER_REVIEWS",
    "KEYWORD_INCITEMENT_AGAINST_WOMEN",
    "KEYWORD_INCITEMENT_VIOLENCE_HATRED",
    "KEYWORD_INSUFFICIENT_INFORMATION_ON_TRADERS",
    "KEYWORD_LANGUAGE_REQUIREMENTS",
    "KEYWORD_MISINFORMATION_DISINFORMATION",
    "KEYWORD_MISLEADING_INFO_CONSUMER_RIGHTS",
    "KEYWORD_MISLEADING_INFO_GOODS_SERVICES",
    "KEYWORD_MISSING_PROCESSING_GROUND",
    "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING",
    "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING_AGAINST_WOMEN",
    "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE",
    "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE_AGAINST_WOMEN",
    "KEYWORD_NONCOMPLIANCE_PRICING",
    "KEYWORD_NUDITY",
    "KEYWORD_PATENT_INFRINGEMENT",
    "KEYWORD_PHISHING",
    "KEYWORD_PROHIBITED_PRODUCTS",
    "KEYWORD_PYRAMID_SCHEMES",
    "KEYWORD_RIGHT_TO_BE_FORGOTTEN",
    "KEYWORD_RISK_ENVIRONMENTAL_DAMAGE",
    "KEYWORD_RISK_PUBLIC_HEALTH",
    "KEYWORD_SELF_MUTILATION",
    "KEYWORD_STALKING",
    "KEYWORD_SUICIDE",
    "KEYWORD_TERRORIST_CONTENT",
    "KEYWORD_TRADE_SECRET_INFRINGEMENT",
    "KEYWORD_TRADEMARK_INFRINGEMENT",
    "KEYWORD_TRAFFICKING_WOMEN_GIRLS",
    "KEYWORD_UNLAWFUL_SALE_ANIMALS",
    "KEYWORD_UNSAFE_CHALLENGES",
    "KEYWORD_UNSAFE_PRODUCTS",
    "KEYWORD_VIOLATION_EU_LAW",
    "KEYWORD_VIOLATION_NATIONAL_LAW",
    "KEYWORD_OTHER",
)
SOURCE_TYPE = ("SOURCE_ARTICLE_16", "SOURCE_TRUSTED_FLAGGER", "SOURCE_TYPE_OTHER_NOTIFICATION", "SOURCE_VOLUNTARY")
AUTOMATED_DETECTION = ("Yes", "No")
AUTOMATED_DECISION = (
    "AUTOMATED_DECISION_FULLY",
    "AUTOMATED_DECISION_PARTIALLY",
    "AUTOMATED_DECISION_NOT_AUTOMATED",
)
# EU member states plus Iceland, Liechtenstein and Norway (EuropeanCountriesService::EUROPEAN_COUNTRY_CODES).
TERRITORIES = (
    "AT",
    "BE",
    "BG",
    "CY",
    "CZ",
    "DE",
    "DK",
    "EE",
    "ES",
    "FI",
    "FR",
    "GR",
    "HR",
    "HU",
    "IE",
    "IS",
    "IT",
    "LI",
    "LT",
    "LU",
    "LV",
    "MT",
    "NL",
    "NO",
    "PL",
    "PT",
    "RO",
    "SE",
    "SI",
    "SK",
)
PUID_RE = re.compile(r"^[a-zA-Z0-9\-_]+$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_BATCH = 100
_DECISIONS = ("decision_visibility", "decision_monetary", "decision_provision", "decision_account")


def _date(value: Any, lo: str | None, hi: str) -> str | None:
    if not isinstance(value, str) or not DATE_RE.match(value):
        return "does not match the format YYYY-MM-DD"
    try:
        d = date.fromisoformat(value)
    except ValueError:
        return "is not a date"
    if lo and d < date.fromisoformat(lo):
        return f"must be on or after {lo}"
    if d > date.fromisoformat(hi):
        return f"must be on or before {hi}"
    return None


def _max(errors: dict[str, list[str]], s: dict[str, Any], key: str, n: int) -> None:
    v = s.get(key)
    if v is not None and len(str(v)) > n:
        errors.setdefault(key, []).append(f"may not be greater than {n} characters")


def validate(s: dict[str, Any]) -> dict[str, list[str]]:  # noqa: C901 - one rule per line, like the source
    """Field → messages; empty when the Transparency Database would accept the statement."""
    errors: dict[str, list[str]] = {}

    def err(key: str, msg: str) -> None:
        errors.setdefault(key, []).append(msg)

    def one_of(key: str, allowed: tuple[str, ...], *, array: bool = False, nullable: bool = True) -> None:
        v = s.get(key)
        if v is None:
            return
        if array:
            if not isinstance(v, list):
                err(key, "must be an array")
                return
            bad = [x for x in v if x not in allowed and not (nullable and x is None)]
            if bad:
                err(key, f"selected {key} is invalid: {bad}")
        elif v not in allowed:
            err(key, f"selected {key} is invalid")

    if not any(s.get(k) for k in _DECISIONS):
        err("decision_visibility", "one of decision_visibility, _monetary, _provision or _account is required")
    one_of("decision_visibility", DECISION_VISIBILITY, array=True)
    if "DECISION_VISIBILITY_OTHER" in (s.get("decision_visibility") or []) and not s.get("decision_visibility_other"):
        err("decision_visibility_other", "is required when decision visibility is other")
    _max(errors, s, "decision_visibility_other", 500)
    one_of("decision_monetary", DECISION_MONETARY)
    if s.get("decision_monetary") == "DECISION_MONETARY_OTHER" and not s.get("decision_monetary_other"):
        err("decision_monetary_other", "is required when decision monetary is other")
    _max(errors, s, "decision_monetary_other", 500)
    one_of("decision_provision", DECISION_PROVISION)
    one_of("decision_account", DECISION_ACCOUNT)
    one_of("account_type", ACCOUNT_TYPE)
    one_of("category_specification", KEYWORD, array=True)
    _max(errors, s, "category_specification_other", 500)

    ground = s.get("decision_ground")
    if ground is None:
        err("decision_ground", "is required")
    elif ground not in DECISION_GROUND:
        err("decision_ground", "selected decision_ground is invalid")
    _max(errors, s, "decision_ground_reference_url", 500)
    url = s.get("decision_ground_reference_url")
    if url is not None and not re.match(r"^https?://[^\s/$.?#].[^\s]*$", str(url)):
        err("decision_ground_reference_url", "must be a valid URL")
    if ground == "DECISION_GROUND_ILLEGAL_CONTENT":
        for key, n in (("illegal_content_legal_ground", 500), ("illegal_content_explanation", 2000)):
            if not s.get(key):
                err(key, "is required when decision ground is illegal content")
            _max(errors, s, key, n)
    if ground == "DECISION_GROUND_INCOMPATIBLE_CONTENT":
        for key, n in (("incompatible_content_ground", 500), ("incompatible_content_explanation", 2000)):
            if not s.get(key):
                err(key, "is required when decision ground is incompatible content")
            _max(errors, s, key, n)
        one_of("incompatible_content_illegal", INCOMPATIBLE_CONTENT_ILLEGAL)

    ct = s.get("content_type")
    if not ct:
        err("content_type", "is required")
    else:
        one_of("content_type", CONTENT_TYPE, array=True, nullable=False)
        if isinstance(ct, list) and "CONTENT_TYPE_OTHER" in ct and not s.get("content_type_other"):
            err("content_type_other", "is required when content is other")
    _max(errors, s, "content_type_other", 500)

    if not s.get("category"):
        err("category", "is required")
    else:
        one_of("category", CATEGORY)
    one_of("category_addition", CATEGORY, array=True, nullable=False)
    one_of("territorial_scope", TERRITORIES, array=True, nullable=False)
    lang = s.get("content_language")
    if lang is not None and not re.match(r"^[A-Z]{2}$", str(lang)):
        err("content_language", "selected content_language is invalid")

    for key, lo, required in (("content_date", "2000-01-01", True), ("application_date", "2020-01-01", True)):
        if s.get(key) is None:
            if required:
                err(key, "is required")
            continue
        problem = _date(s[key], lo, "2038-01-01")
        if problem:
            err(key, problem)
    for key in (
        "end_date_account_restriction",
        "end_date_monetary_restriction",
        "end_date_service_restriction",
        "end_date_visibility_restriction",
    ):
        if s.get(key) is not None:
            problem = _date(s[key], None, "2038-01-01")
            if problem:
                err(key, problem)

    if not s.get("decision_facts"):
        err("decision_facts", "is required")
    _max(errors, s, "decision_facts", 5000)
    if not s.get("source_type"):
        err("source_type", "is required")
    else:
        one_of("source_type", SOURCE_TYPE)
    _max(errors, s, "source_identity", 500)
    if s.get("automated_detection") is None:
        err("automated_detection", "is required")
    else:
        one_of("automated_detection", AUTOMATED_DETECTION)
    if s.get("automated_decision") is None:
        err("automated_decision", "is required")
    else:
        one_of("automated_decision", AUTOMATED_DECISION)
    puid = s.get("puid")
    if not puid:
        err("puid", "is required")
    else:
        _max(errors, s, "puid", 500)
        if not PUID_RE.match(str(puid)):
            err("puid", "The puid format is invalid.")
    cid = s.get("content_id")
    if cid is not None:
        if not isinstance(cid, dict):
            err("content_id", "must be an array")
        elif "EAN-13" in cid and not re.match(r"^[0-9]{13}$", str(cid["EAN-13"])):
            err("content_id.EAN-13", "format is invalid")
    return errors
