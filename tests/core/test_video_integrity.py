"""Banking and removing videos leaves the sealed feed verifiable (`amparo verify` stays clean)."""

from __future__ import annotations

from video_samples import known_clip

from amparo.banks.management import Acting
from amparo.banks.videos import bank_video_file
from amparo.cli.verify import run_verify
from amparo.store import banks_repo, video_repo


def _who(service) -> Acting:  # type: ignore[no-untyped-def]
    return Acting(service.audit, "test", "admin")


def test_banking_and_removing_a_video_leaves_every_sealed_row_verifiable(service) -> None:  # type: ignore[no-untyped-def]
    with service.db.session() as s:
        banks_repo.create_bank(s, name="known", category="csam")
    banked = bank_video_file(service.db, service.settings, _who(service), bank="known", data=known_clip())
    report = run_verify(service)
    assert report["ok"], report["first_broken"]
    with service.db.session() as s:
        assert video_repo.remove_videos(s, video_ids=[banked["video_id"]]) == 1
    report = run_verify(service)
    assert report["ok"], report["first_broken"]


def test_a_forged_video_feed_row_is_named(service) -> None:  # type: ignore[no-untyped-def]
    import sqlalchemy as sa

    with service.db.session() as s:
        banks_repo.create_bank(s, name="known", category="csam")
    bank_video_file(service.db, service.settings, _who(service), bank="known", data=known_clip())
    with service.db.session() as s:  # an outsider hides a banked frame from the index
        first = s.scalar(sa.text("SELECT MIN(seq) FROM index_changes WHERE signal_type = 'vpdq'"))
        s.execute(sa.text("UPDATE index_changes SET op = 'remove' WHERE seq = :q"), {"q": first})
    report = run_verify(service)
    assert not report["ok"] and "index_changes" in report["first_broken"]


def test_a_forged_banked_video_or_frame_is_named(service) -> None:  # type: ignore[no-untyped-def]
    import sqlalchemy as sa

    with service.db.session() as s:
        banks_repo.create_bank(s, name="known", category="csam")
    bank_video_file(service.db, service.settings, _who(service), bank="known", data=known_clip())
    with service.db.session() as s:  # an outsider turns the banked video's opinion around
        s.execute(sa.text("UPDATE bank_videos SET opinion = 'negative'"))
    report = run_verify(service)
    assert not report["ok"] and "bank_videos" in report["first_broken"]
    with service.db.session() as s:
        s.execute(sa.text("UPDATE bank_videos SET opinion = 'positive'"))
        s.execute(sa.text("UPDATE bank_video_frames SET hash = :h WHERE id = 1"), {"h": "0" * 64})
    report = run_verify(service)
    assert not report["ok"] and "bank_video_frames" in report["first_broken"]
