"""HMA's content routes: add by upload, by URL and as raw signals; read, update and delete content."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from threatexchange.signal_type.pdq.signal import PdqSignal

pytestmark = pytest.mark.slow
PHOTO = "bridge-mods/aaa-orig.jpg"


def _bank(hma, name: str = "TEST_BANK") -> str:
    assert hma.client.post("/c/banks", json={"name": name}).status_code == 201
    return name


def _photo(shared_data: Path, rel: str = PHOTO) -> bytes:
    return (shared_data / "pdq" / rel).read_bytes()


def test_add_by_upload_and_by_url_give_the_same_signals(hma, shared_data: Path) -> None:
    bank = _bank(hma)
    up = hma.client.post(f"/c/bank/{bank}/content", files={"photo": ("a.jpg", _photo(shared_data), "image/jpeg")})
    assert up.status_code == 200
    assert set(up.json()) == {"id", "signals"} and set(up.json()["signals"]) == {"pdq"}
    by_url = hma.client.post(f"/c/bank/{bank}/content?url={hma.media}/{PHOTO}&content_type=photo")
    assert by_url.status_code == 200 and by_url.json()["signals"] == up.json()["signals"]
    # The content type comes from the server's Content-Type when not given.
    sniffed = hma.client.post(f"/c/bank/{bank}/content", params={"url": f"{hma.media}/bridge-mods/blur-a-lot.jpg"})
    assert sniffed.status_code == 200 and set(sniffed.json()["signals"]) == {"pdq"}


def test_upload_field_names_the_content_type(hma, shared_data: Path) -> None:
    bank = _bank(hma)
    data = _photo(shared_data)
    video = hma.client.post(f"/c/bank/{bank}/content", files={"video": ("v.mp4", data, "video/mp4")})
    assert video.status_code == 200
    import hashlib

    assert video.json()["signals"] == {"video_md5": hashlib.md5(data).hexdigest()}
    unknown = hma.client.post(f"/c/bank/{bank}/content", files={"audio": ("a.mp3", data)})
    assert unknown.status_code == 400 and "content_type" in unknown.json()["message"]
    two = hma.client.post(f"/c/bank/{bank}/content", files=[("photo", ("a.jpg", data)), ("photo", ("b.jpg", data))])
    assert two.status_code == 400 and "one file" in two.json()["message"]
    three = [("photo", ("a.jpg", data))] * 3
    many = hma.client.post(f"/c/bank/{bank}/content", files=three)
    assert many.status_code == 400 and "message" in many.json()
    broken = hma.client.post(
        f"/c/bank/{bank}/content", content=b"--x\r\nnot a part", headers={"content-type": "multipart/form-data"}
    )
    assert broken.status_code == 400 and "message" in broken.json()
    nothing = hma.client.post(f"/c/bank/{bank}/content")
    assert nothing.status_code == 400 and "message" in nothing.json()
    assert hma.client.post("/c/bank/NOPE/content", files={"photo": ("a.jpg", data)}).status_code == 404


def test_url_content_type_and_types_are_checked(hma) -> None:
    bank = _bank(hma)
    not_media = hma.client.post(f"/c/bank/{bank}/content", params={"url": f"{hma.media}/README.md"})
    assert not_media.status_code in (400, 404)
    wrong = hma.client.post(f"/c/bank/{bank}/content", params={"url": f"{hma.media}/{PHOTO}", "types": "tmk"})
    assert wrong.status_code == 400 and "tmk" in wrong.json()["message"]
    elsewhere = hma.client.post(f"/c/bank/{bank}/content", params={"url": "http://10.0.0.1/x.jpg"})
    assert elsewhere.status_code == 400 and "allowlist" in elsewhere.json()["message"]


def test_metadata_and_note_rules(hma, shared_data: Path) -> None:
    bank = _bank(hma)
    url = f"/c/bank/{bank}/content?url={hma.media}/{PHOTO}&content_type=photo"
    assert hma.client.post(url, json={"metadata": {"invalid_metadata": 5}}).status_code == 400
    assert hma.client.post(url, json={"metadata": "text"}).status_code == 400
    assert hma.client.post(url, json={"metadata": {"content_id": 5}}).status_code == 400
    assert hma.client.post(url, json={"metadata": {"json": [1]}}).status_code == 400
    assert hma.client.post(url, json={"note": "x" * 256}).status_code == 400
    assert hma.client.post(url, json={"note": 7}).status_code == 400
    assert hma.client.get(f"/v1/banks/{bank}/entries").json()["entries"] == []  # refused adds changed nothing
    meta = {"content_id": "ext-id-123", "content_uri": "https://example.com/item/123", "json": {"a": {"b": 1}}}
    added = hma.client.post(url, json={"metadata": {**meta, "collab": {"X": ["1"]}}, "note": "Reported by user X"})
    assert added.status_code == 200
    got = hma.client.get(f"/c/bank/{bank}/content/{added.json()['id']}").json()
    assert got["metadata"] == meta  # a client cannot claim exchange provenance
    assert got["note"] == "Reported by user X"
    assert (
        "metadata"
        not in hma.client.get(
            f"/c/bank/{bank}/content/{added.json()['id']}", params={"include_metadata": "false"}
        ).json()
    )
    # Multipart adds carry metadata and note as form fields.
    form = hma.client.post(
        f"/c/bank/{bank}/content",
        files={"photo": ("b.jpg", _photo(shared_data, "bridge-mods/blur-a-lot.jpg"))},
        data={"metadata": '{"content_id": "c2"}', "note": "from a form"},
    )
    assert form.status_code == 200
    got = hma.client.get(f"/c/bank/{bank}/content/{form.json()['id']}").json()
    assert got["metadata"] == {"content_id": "c2"} and got["note"] == "from a form"
    bad_form = hma.client.post(
        f"/c/bank/{bank}/content", files={"photo": ("b.jpg", _photo(shared_data))}, data={"metadata": "{"}
    )
    assert bad_form.status_code == 400


def test_get_content_shape(hma) -> None:
    bank = _bank(hma)
    pdq = PdqSignal.get_examples()[0]
    added = hma.client.post(f"/c/bank/{bank}/signal", json={"pdq": pdq})
    assert added.status_code == 200 and added.json()["signals"] == {"pdq": pdq}
    cid = added.json()["id"]
    got = hma.client.get(f"/c/bank/{bank}/content/{cid}").json()
    assert got == {
        "id": cid,
        "disable_until_ts": 1,
        "original_media_uri": None,
        "bank": {"name": bank, "matching_enabled_ratio": 1.0},
    }
    with_signals = hma.client.get(f"/c/bank/{bank}/content/{cid}", params={"include_signals": "true"}).json()
    assert with_signals["signals"] == {"pdq": pdq}
    assert hma.client.get(f"/c/bank/NOPE/content/{cid}").status_code == 404
    assert hma.client.get(f"/c/bank/{bank}/content/{cid + 1000}").status_code == 404
    _bank(hma, "OTHER_BANK")
    assert hma.client.get(f"/c/bank/OTHER_BANK/content/{cid}").status_code == 404  # ids belong to their bank
    assert hma.client.get(f"/c/bank/{bank}/content/abc").status_code == 400


def test_add_signals(hma) -> None:
    bank = _bank(hma)
    md5 = "d41d8cd98f00b204e9800998ecf8427e"
    r = hma.client.post(f"/c/bank/{bank}/signal", json={"video_md5": md5.upper(), "note": "Hash from campaign ABC"})
    assert r.status_code == 200 and r.json()["signals"] == {"video_md5": md5}
    got = hma.client.get(f"/c/bank/{bank}/content/{r.json()['id']}", params={"include_signals": "true"}).json()
    assert got["signals"] == {"video_md5": md5} and got["note"] == "Hash from campaign ABC"
    for body in ({}, {"note": "only a note"}, {"md5": md5}, {"pdq": "zz"}, {"pdq": 5}, []):
        bad = hma.client.post(f"/c/bank/{bank}/signal", json=body)
        assert bad.status_code == 400 and "message" in bad.json(), body
    assert hma.client.post("/c/bank/NOPE/signal", json={"pdq": PdqSignal.get_examples()[0]}).status_code == 404


def test_update_content(hma) -> None:
    bank = _bank(hma)
    cid = hma.client.post(f"/c/bank/{bank}/signal", json={"pdq": PdqSignal.get_examples()[1]}).json()["id"]
    later = int(time.time()) + 365 * 86400
    r = hma.client.put(f"/c/bank/{bank}/content/{cid}", json={"disable_until_ts": later})
    assert r.status_code == 200
    assert r.json()["disable_until_ts"] == later and r.json()["bank"] == {"name": bank, "matching_enabled_ratio": 1.0}
    assert hma.client.get(f"/c/bank/{bank}/content/{cid}").json()["disable_until_ts"] == later
    assert hma.client.put(f"/c/bank/{bank}/content/{cid}", json={"disable_until_ts": 9999999999}).status_code == 400
    assert hma.client.put(f"/c/bank/{bank}/content/{cid}", json={"disable_until_ts": -1}).status_code == 400
    assert hma.client.put(f"/c/bank/{bank}/content/{cid}", json={"disable_until_ts": "soon"}).status_code == 400
    assert hma.client.get(f"/c/bank/{bank}/content/{cid}").json()["disable_until_ts"] == later  # unchanged
    assert (
        hma.client.put(f"/c/bank/{bank}/content/{cid}", json={"disable_until_ts": "0"}).json()["disable_until_ts"] == 0
    )
    assert hma.client.put(f"/c/bank/{bank}/content/{cid}", json={"disable_until_ts": 1}).json()["disable_until_ts"] == 1
    for note in ("Initial note", "Updated note"):
        assert hma.client.put(f"/c/bank/{bank}/content/{cid}", json={"note": note}).status_code == 200
        assert hma.client.get(f"/c/bank/{bank}/content/{cid}").json()["note"] == note
    assert hma.client.put(f"/c/bank/{bank}/content/{cid}", json={"note": ""}).status_code == 200
    assert "note" not in hma.client.get(f"/c/bank/{bank}/content/{cid}").json()
    assert hma.client.put(f"/c/bank/{bank}/content/{cid}", json={"note": "y" * 256}).status_code == 400
    assert hma.client.put(f"/c/bank/{bank}/content/{cid + 1000}", json={"note": "a"}).status_code == 404
    assert hma.client.put(f"/c/bank/{bank}/content/{cid}", content=b"[]").status_code == 400


def test_delete_content(hma) -> None:
    bank = _bank(hma)
    cid = hma.client.post(f"/c/bank/{bank}/signal", json={"pdq": PdqSignal.get_examples()[2]}).json()["id"]
    r = hma.client.delete(f"/c/bank/{bank}/content/{cid}")
    assert r.status_code == 200 and r.json() == {"deleted": 1}
    assert hma.client.delete(f"/c/bank/{bank}/content/{cid}").json() == {"deleted": 0}
    assert hma.client.delete(f"/c/bank/NOPE/content/{cid}").status_code == 404
