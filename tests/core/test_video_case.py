"""A blocked video's case and evidence record carry its time ranges: the frame-index match's ranges
(both sides), the flagged ranges and the worst frame."""

from __future__ import annotations

from video_samples import known_clip, long_upload

from amparo.banks.management import Acting
from amparo.banks.videos import bank_video_file
from amparo.domain.items import Context, Item
from amparo.store import banks_repo, review_repo


def test_case_and_evidence_keep_the_matched_time_ranges(sqlite_service) -> None:  # type: ignore[no-untyped-def]
    svc = sqlite_service
    with svc.db.session() as s:
        banks_repo.create_bank(s, name="known", category="csam")
    banked = bank_video_file(svc.db, svc.settings, Acting(svc.audit, "test", "admin"), bank="known", data=known_clip())
    # The frame index follows the change feed every 2 s; a check within 2 s of the last refresh
    # would not see the new video yet (the flake this test had under a busy machine).
    svc.video_matcher.refresh()
    upload = long_upload(40, 20)
    v = svc.pipeline.check(Item.from_video(upload, Context(account="acct-9", surface="upload")))
    assert v.decision.value == "block"
    ref = (v.extra.get("action_results") or {})["quarantine"]["evidence_ref"]
    with svc.db.session() as s:
        case_id = review_repo.case_for_evidence(s, evidence_ref=ref)
        assert case_id is not None
        (item,) = review_repo.list_case_items(s, case_id=case_id)
        assert item.kind == "video"
        (entry,) = [x for x in item.signals if x["type"] == "video"]
        assert entry["value"] == "40 frames sampled; matched 20-29 s; flagged none"
        (m,) = entry["video"]["matched_ranges"]
        assert m["bank"] == "known" and m["video_id"] == banked["video_id"] and m["query_ranges"] == [[20.0, 29.0]]
        assert m["banked_ranges"][0][0] == 0.0 and m["banked_share"] == 1.0
        _, meta = svc.vault._decrypt(svc.vault._item(s, ref))
    assert meta["video"]["matched_ranges"][0]["query_ranges"] == [[20.0, 29.0]]
    assert meta["video"]["sampling"] == {"seconds_per_hash": 1.0, "rule": "frame_index"}
