"""Video banks and the frame index: a short known clip inside a long benign upload, both shares,
time ranges, incremental updates, import/export of the reference format (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from video_samples import CLIP_SCENE, known_clip, long_upload, make_video

from amparo.banks.management import Acting
from amparo.banks.videos import bank_video_file, export_video, import_video_hashes
from amparo.errors import BadInput, NotFound
from amparo.matching.video_matcher import VideoThresholds, time_ranges
from amparo.signals.hashes.vpdq import hash_video, parse_reference_lines
from amparo.store import banks_repo, video_repo


def _who(service) -> Acting:  # type: ignore[no-untyped-def]
    return Acting(service.audit, "test", "admin")


def _bank(service, name: str = "known", category: str = "csam", negative: bool = False) -> None:
    with service.db.session() as s:
        banks_repo.create_bank(s, name=name, category=category, negative=negative)


def test_short_clip_inside_long_upload_is_found(service) -> None:
    _bank(service)
    banked = bank_video_file(service.db, service.settings, _who(service), bank="known", data=known_clip())
    assert banked["created"] and banked["frames"] == 10
    vh = hash_video(long_upload())
    res = service.video_matcher.lookup_video(vh.frames, thresholds=VideoThresholds(0.8, 0.8))
    assert len(res.matches) == 1
    m = res.matches[0]
    assert (m.bank, m.bank_category, m.signal_type, m.entry_id) == ("known", "csam", "vpdq", banked["video_id"])
    v = m.video
    assert v is not None and v["banked_share"] >= 0.8
    assert v["query_share"] < 0.05  # python-threatexchange's rule (query share >= 80 %) would miss it
    assert v["query_ranges"] == [(300.0, 309.0)]
    assert v["banked_ranges"][0][0] <= 0.5 and v["banked_ranges"][-1][1] >= 8.5


def test_clip_of_a_long_banked_video_matches_on_the_query_share(service) -> None:
    _bank(service)
    bank_video_file(service.db, service.settings, _who(service), bank="known", data=long_upload())
    clip = make_video(12, scene=CLIP_SCENE, fps=10, size=(320, 180))
    m = service.video_matcher.lookup_video(hash_video(clip).frames).matches
    assert len(m) == 1 and m[0].video is not None
    assert m[0].video["query_share"] >= 0.8 and m[0].video["banked_share"] < 0.05


def test_benign_upload_matches_nothing_and_shares_below_threshold_do_not_match(service) -> None:
    _bank(service)
    bank_video_file(service.db, service.settings, _who(service), bank="known", data=known_clip())
    benign = hash_video(long_upload(120, None)).frames
    assert service.video_matcher.lookup_video(benign).matches == ()
    half = hash_video(make_video(5, scene=CLIP_SCENE, fps=10, size=(320, 180))).frames  # half the banked clip
    assert service.video_matcher.lookup_video(half, thresholds=VideoThresholds(0.8, 1.01)).matches == ()
    got = service.video_matcher.lookup_video(half, thresholds=VideoThresholds(0.4, 1.01)).matches
    assert len(got) == 1 and got[0].video is not None and 0.4 <= got[0].video["banked_share"] < 0.8


def test_index_follows_adds_and_removals_incrementally(service) -> None:
    _bank(service)
    vm = service.video_matcher
    query = hash_video(known_clip()).frames
    assert vm.lookup_video(query).matches == ()
    out = bank_video_file(service.db, service.settings, _who(service), bank="known", data=known_clip())
    before = vm.pdq.applied_seq
    assert vm.refresh() == 10 and len(vm.pdq) == 10 and vm.pdq.applied_seq > before
    assert len(vm.lookup_video(query).matches) == 1
    again = bank_video_file(
        service.db, service.settings, _who(service), bank="known", data=known_clip(), opinion="disputed"
    )
    assert again == {**out, "created": False}
    assert vm.refresh() == 0 and vm.lookup_video(query).matches[0].opinion == "disputed"
    with service.db.session() as s:
        assert video_repo.remove_videos(s, video_ids=[out["video_id"]]) == 1
    assert vm.refresh() == 10 and len(vm.pdq) == 0
    assert vm.lookup_video(query).matches == ()
    # Deleting a bank takes its videos' frames out of the index too.
    bank_video_file(service.db, service.settings, _who(service), bank="known", data=known_clip())
    vm.refresh()
    with service.db.session() as s:
        banks_repo.delete_bank(s, name="known")
    vm.refresh()
    assert len(vm.pdq) == 0 and vm.lookup_video(query).matches == ()


def test_safe_bank_suppresses_and_disabled_bank_is_ignored(service) -> None:
    _bank(service)
    _bank(service, "safe", "other", negative=True)
    query = hash_video(known_clip()).frames
    bank_video_file(service.db, service.settings, _who(service), bank="known", data=known_clip())
    service.video_matcher.refresh()
    with service.db.session() as s:
        banks_repo.update_bank(s, name="known", enabled=False)
    assert service.video_matcher.lookup_video(query).matches == ()
    with service.db.session() as s:
        banks_repo.update_bank(s, name="known", enabled=True)
    bank_video_file(service.db, service.settings, _who(service), bank="safe", data=known_clip())
    service.video_matcher.refresh()
    res = service.video_matcher.lookup_video(query)
    assert res.matches == () and len(res.suppressed) == 1 and len(res.negatives) == 1


def test_import_and_export_of_reference_hash_files(service) -> None:
    _bank(service)
    vh = hash_video(known_clip())
    text = "".join(f.to_line() + "\n" for f in vh.frames)
    out = import_video_hashes(service.db, _who(service), bank="known", text=text)
    assert out["created"] and out["frames"] == 10
    exported = export_video(service.db, _who(service), bank="known", video_id=out["video_id"], fmt="vpdq")
    assert exported == text
    as_json = export_video(service.db, _who(service), bank="known", video_id=out["video_id"], fmt="json")
    again = import_video_hashes(service.db, _who(service), bank="known", text=as_json)
    assert again["frames"] == 10
    with service.db.session() as s:
        v = video_repo.get_video(s, video_id=out["video_id"])
        assert v.sampling == {"rule": "imported", "seconds_per_hash": 1.0}
    service.video_matcher.refresh()
    m = service.video_matcher.lookup_video(parse_reference_lines(text)).matches
    assert {x.entry_id for x in m} >= {out["video_id"]}
    with pytest.raises(BadInput):
        import_video_hashes(service.db, _who(service), bank="known", text="0,100,nothex,0.0\n")
    with pytest.raises(NotFound):
        import_video_hashes(service.db, _who(service), bank="nope", text=text)
    with pytest.raises(BadInput):
        export_video(service.db, _who(service), bank="known", video_id=out["video_id"], fmt="xml")


def test_time_ranges_join_neighbouring_samples() -> None:
    assert time_ranges([3.0, 1.0, 2.0, 7.0, 8.0, 20.0], 1.5) == [(1.0, 3.0), (7.0, 8.0), (20.0, 20.0)]
    assert time_ranges([], 1.5) == []
