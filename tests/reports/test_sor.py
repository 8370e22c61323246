"""DSA statements of reasons: valid across the enums, batched, never sent twice, no personal data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from amparo.domain.items import ItemKind
from amparo.errors import BadInput
from amparo.reports.art17 import LANGUAGES, user_statement
from amparo.reports.exporters import ExporterRegistry, ReportQueue
from amparo.reports.record import DecisionRecord
from amparo.reports.sor import build_statement, checked_statement, lint_personal_data, puid_for
from amparo.reports.sor_client import SorExporter, TdbClient, enqueue_statements
from amparo.reports.sor_schema import validate
from amparo.store import reports_repo
from reports.conftest import make_actor
from reports.synth import LABELS, add_event

KEY = b"k" * 32
T0 = datetime(2026, 3, 1, tzinfo=UTC)


def queue_for(service: Any, url: str, token: str = "1|standin-token") -> ReportQueue:
    reg = ExporterRegistry()
    reg.register(SorExporter(TdbClient(url, token, timeout=5), key=KEY))
    return ReportQueue(db=service.db, audit=service.audit, vault=service.vault, registry=reg)


records = st.builds(
    DecisionRecord,
    decision_id=st.from_regex(r"(event|case)-[1-9][0-9]{0,6}", fullmatch=True),
    event_id=st.none() | st.integers(1, 10**6),
    case_id=st.none() | st.integers(1, 10**6),
    account=st.none() | st.text(min_size=3, max_size=12, alphabet="abcdefghij-_0123456789"),
    kind=st.sampled_from(["image", "prompt", "edit_request", "generated_image"]),
    surface=st.sampled_from([None, "upload", "generation", "edit"]),
    profile=st.sampled_from([None, "eu-es", "eu-fr", "eu-de", "us"]),
    content_at=st.datetimes(datetime(2020, 1, 2), datetime(2037, 12, 1), timezones=st.just(UTC)),
    applied_at=st.datetimes(datetime(2020, 1, 2), datetime(2037, 12, 1), timezones=st.just(UTC)),
    decision=st.sampled_from(["block", "refuse", "age_restrict", "label", "confirm"]),
    labels=st.lists(st.sampled_from([*LABELS, "sexual_adult_request", "unknown_label"]), max_size=3),
    automated_detection=st.booleans(),
    automated_decision=st.sampled_from(["fully", "partially", "not"]),
    system=st.sampled_from(["hash_matching", "prompt_gate", "image_classifiers", "policy_rules", "human_review"]),
    reviewer_outcome=st.sampled_from([None, "confirm", "not_violating"]),
    confirmed_label=st.none() | st.sampled_from(LABELS),
    account_action=st.sampled_from([None, "warn", "restrict", "suspend", "ban"]),
    generated=st.booleans(),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rec=records)
def test_statements_are_valid_across_the_enums(rec: DecisionRecord) -> None:
    s = checked_statement(rec, key=KEY)
    assert validate(s) == {}
    assert s["puid"] == puid_for(KEY, rec.decision_id)
    if rec.generated:
        assert "CONTENT_TYPE_SYNTHETIC_MEDIA" in s["content_type"]
    assert s["automated_detection"] == ("Yes" if rec.automated_detection else "No")


def test_csam_and_ncii_deepfakes_get_their_dsa_keywords() -> None:
    base = dict(
        decision_id="event-1",
        event_id=1,
        case_id=None,
        account="a",
        kind="generated_image",
        surface="generation",
        profile="eu-es",
        content_at=T0,
        applied_at=T0,
        decision="block",
        automated_detection=True,
        automated_decision="fully",
        system="image_classifiers",
        reviewer_outcome=None,
        confirmed_label=None,
        account_action="ban",
        generated=True,
    )
    csam = build_statement(DecisionRecord(labels=["csam_suspected"], **base), key=KEY)  # type: ignore[arg-type]
    assert csam["category"] == "STATEMENT_CATEGORY_PROTECTION_OF_MINORS"
    assert csam["category_specification"] == ["KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE"]
    assert csam["decision_ground"] == "DECISION_GROUND_ILLEGAL_CONTENT"
    assert csam["territorial_scope"] == ["ES"] and csam["decision_account"] == "DECISION_ACCOUNT_TERMINATED"
    ncii = build_statement(DecisionRecord(labels=["sexual_deepfake"], **base), key=KEY)  # type: ignore[arg-type]
    assert (ncii["category"], ncii["category_specification"]) == (
        "STATEMENT_CATEGORY_CYBER_VIOLENCE",
        ["KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE"],
    )


def test_validator_refuses_what_the_database_refuses() -> None:
    assert "decision_ground" in validate({"category": "X"})
    bad = {
        "puid": "has space",
        "content_type": ["CONTENT_TYPE_IMAGE"],
        "category": "STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT",
    }
    errors = validate(bad)
    assert {"puid", "category", "decision_visibility", "decision_facts", "content_date"} <= set(errors)


def test_lint_refuses_personal_data_in_free_text() -> None:
    s = {"decision_facts": "Uploaded by jane@example.org from 192.0.2.4, call +34 600 123 456, @jane"}
    problems = lint_personal_data(s, known=("acct-99",))
    assert len(problems) == 4
    assert lint_personal_data({"decision_facts": "account acct-99 did it"}, known=("acct-99",))
    assert lint_personal_data({"decision_facts": "A moderator reviewed it."}) == []
    # an id that is one of the statement's own fixed words is no leak; part of a longer token neither
    assert lint_personal_data({"decision_facts": "restricted an uploaded image"}, known=("image",)) == []
    assert lint_personal_data({"decision_facts": "acct-990 did it"}, known=("acct-99",)) == []


def test_art17_statement_in_five_languages_with_the_appeal_route(service) -> None:
    rec = DecisionRecord(
        decision_id="event-5",
        event_id=5,
        case_id=2,
        account="a",
        kind="image",
        surface="upload",
        profile="eu-es",
        content_at=T0,
        applied_at=T0,
        decision="block",
        labels=["ncii_known"],
        automated_detection=True,
        automated_decision="partially",
        system="hash_matching",
        reviewer_outcome="confirm",
        confirmed_label="ncii_known",
        account_action=None,
        generated=False,
    )
    texts = {lang: user_statement(rec, language=lang) for lang in LANGUAGES}
    assert len({t["title"] for t in texts.values()}) == 5
    assert all("event-5" in " ".join(t["paragraphs"]) for t in texts.values())
    assert texts["es"]["appeal"]["route"] == "POST /v1/appeals"
    with pytest.raises(BadInput):
        user_statement(rec, language="fr")


def test_eu_decisions_are_sent_in_batches_and_never_twice(service, tdb) -> None:
    url, standin = tdb
    with service.db.session() as s:
        for i in range(130):
            add_event(
                s,
                decision="block",
                labels=[LABELS[i % len(LABELS)]],
                at=T0 + timedelta(minutes=i),
                kind=ItemKind.GENERATED_IMAGE if i % 2 else ItemKind.IMAGE,
            )
        add_event(s, decision="allow", labels=[], at=T0)  # not a restriction
        add_event(s, decision="block", labels=["csam_known"], profile="us", at=T0)  # not an EU decision
    with service.db.session() as s:
        assert enqueue_statements(s, start=T0, end=T0 + timedelta(days=1)) == 130
    with service.db.session() as s:
        assert enqueue_statements(s, start=T0, end=T0 + timedelta(days=1)) == 0  # idempotent
    q = queue_for(service, url)
    standin.fail = 1  # first batch hits a 503: those rows stay queued with the error
    res = q.process(limit=1000)
    assert sum(r.ok for r in res) == 30 and sum(not r.ok for r in res) == 100
    assert standin.posts == 1
    with service.db.session() as s:
        queued = reports_repo.list_reports(s, status="queued", target="dsa_sor")
        assert len(queued) == 100 and all("503" in (r.payload["last_error"] or "") for r in queued)
    res2 = q.process(limit=1000)
    assert all(r.ok for r in res2) and len(res2) == 100
    assert len(standin.statements) == 130


def test_retry_checks_existing_puid_before_sending(service, tdb) -> None:
    url, standin = tdb
    with service.db.session() as s:
        add_event(s, decision="refuse", labels=["csam_request"], kind=ItemKind.PROMPT, at=T0)
        enqueue_statements(s, start=T0, end=T0 + timedelta(days=1))
    q = queue_for(service, url)
    [r] = q.process()
    assert r.ok
    with service.db.session() as s:
        [row] = reports_repo.list_reports(s, target="dsa_sor")
        reports_repo.save_report(s, row=row, status="queued", payload=row.payload)  # as if the answer was lost
    posts = standin.posts
    [again] = q.process()
    assert again.ok and again.detail["existing"] is True
    assert standin.posts == posts and len(standin.statements) == 1


def test_bad_token_keeps_statements_queued(service, tdb) -> None:
    url, standin = tdb
    make_actor(service, "ada", "admin")
    with service.db.session() as s:
        add_event(s, decision="block", labels=["ncii_known"], at=T0)
        enqueue_statements(s, start=T0, end=T0 + timedelta(days=1))
    [r] = queue_for(service, url, token="wrong").process()
    assert not r.ok and "401" in (r.error or "")
    assert standin.statements == {}


def test_account_suspension_by_a_reviewer_reaches_the_statement_and_the_report(service) -> None:
    from amparo.cases.workflow import DecisionInput
    from amparo.reports.sor_client import record_by_decision_id
    from amparo.reports.transparency import transparency_report

    rita = make_actor(service, "rita", "reviewer")
    with service.db.session() as s:
        eid = add_event(s, decision="block", labels=["ncii_known"], at=T0)
    with service.db.session() as s:
        c = service.cases.open_case(s, labels=["ncii_known"], reasons=[], items=[], event_id=eid, account="acct-1")
        cid, ver = c.id, c.version
    with service.db.session() as s:
        service.cases.decide(s, case_id=cid, expected_version=ver, actor=rita,
                             decision=DecisionInput("confirm", "ncii_known", actions=("account_action",),
                                                    account_action="ban"))  # fmt: skip
    with service.db.session() as s:
        st = checked_statement(record_by_decision_id(s, f"event-{eid}"), key=KEY)
        rep = transparency_report(s, start=T0, end=T0 + timedelta(days=1))
    assert st["decision_account"] == "DECISION_ACCOUNT_TERMINATED"
    assert st["automated_decision"] == "AUTOMATED_DECISION_PARTIALLY"
    assert rep["own_initiative_illegal"]["TOTAL"]["DECISION_ACCOUNT_TERMINATED"] == 1


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(records, min_size=1, max_size=100, unique_by=lambda r: r.decision_id))
def test_fuzzed_statements_are_accepted_by_the_validating_standin(tdb, batch: list[DecisionRecord]) -> None:
    import os

    url, standin = tdb
    key = os.urandom(32)  # fresh puids per example: the stand-in keeps every statement it accepted
    client = TdbClient(url, standin.token, timeout=10)
    r = client.post_batch([checked_statement(rec, key=key) for rec in batch])
    assert r.status_code == 201, r.text
    assert all(client.exists(puid_for(key, rec.decision_id)) for rec in batch[:3])
