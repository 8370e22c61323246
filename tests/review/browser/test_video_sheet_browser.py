"""A video under review in headless Chromium: its contact sheet is blurred with the matched and
flagged ranges marked in colour, and revealing it counts toward the daily limit like an image."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from video_samples import make_video

from amparo.cases.workflow import CaseItemInput
from review.browser.conftest import screenshot_dir
from review.browser.test_review_browser import records, sign_in, wait_until

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def video_case(site: Any) -> tuple[int, str]:
    data = make_video(24, scene=3, fps=4, size=(320, 180))
    video = {
        "sampled_frames": 24,
        "flagged_ranges": [[2.0, 4.0]],
        "worst_frame_t": 3.0,
        "matched_ranges": [{"bank": "known", "video_id": 1, "query_ranges": [[12.0, 17.0]]}],
    }
    with site.db.session() as s:
        ev = site.review.vault.capture(s, data=data, item_id="video-1", event_id=99)
        case = site.review.cases.open_case(
            s,
            labels=["csam_known"],
            account="acct-v",
            event_id=99,
            title="csam_known (upload)",
            reasons=[
                {"rule": "hash.csam_known", "label": "csam_known", "decision": "block", "description": "stand-in"}
            ],
            items=[
                CaseItemInput(
                    item_id="video-1",
                    event_id=99,
                    evidence_ref=ev.ref,
                    kind="video",
                    signals=[
                        {"type": "video", "value": "24 frames sampled; matched 12-17 s; flagged 2-4 s", "video": video}
                    ],
                    matches=[
                        {
                            "bank": "known",
                            "category": "csam",
                            "entry_id": 1,
                            "signal_type": "vpdq",
                            "distance": 0,
                            "video": {"query_ranges": [[12.0, 17.0]], "banked_share": 1.0, "query_share": 0.25},
                        }
                    ],
                )
            ],
        )
        return case.id, ev.ref


def test_video_contact_sheet_is_blurred_marked_and_revealed_on_purpose(site: Any, new_page: Any, video_case) -> None:  # type: ignore[no-untyped-def]
    case_id, ref = video_case
    assert httpx.get(f"{site.url}/evidence/{ref}/sheet", follow_redirects=False).status_code == 303  # sign in first
    page = new_page()
    sign_in(page, site, "sam")
    before_previews = len(records(site, "evidence.preview"))
    page.goto(f"{site.url}/cases/{case_id}")
    img = page.locator("#media-1")
    img.wait_for()
    wait_until(page, "document.querySelector('#media-1').naturalWidth > 0")
    assert img.get_attribute("src").endswith(f"/evidence/{ref}/sheet")
    assert page.evaluate("getComputedStyle(document.querySelector('#media-1')).filter") == "none"  # marks in colour
    assert page.inner_text("#video-ranges-1") == "24 frames sampled; matched 12-17 s; flagged 2-4 s"
    assert len(records(site, "evidence.preview")) == before_previews + 1
    # the blurred sheet: grey tiles, red and amber frames around the marked times
    blurred = page.request.get(f"{site.url}/evidence/{ref}/sheet").body()
    from io import BytesIO

    from PIL import Image

    with Image.open(BytesIO(blurred)) as im:
        colours = im.convert("RGB").getcolors(1 << 20) or []
    reds = sum(n for n, (r, g, b) in colours if r > 180 and g < 90 and b < 90)
    ambers = sum(n for n, (r, g, b) in colours if r > 200 and 120 < g < 200 and b < 70)
    assert reds > 500 and ambers > 500
    if (d := screenshot_dir()) is not None:
        page.screenshot(path=str(d / "video-contact-sheet.png"), full_page=True)
    before = len(records(site, "evidence.reveal"))
    page.click("#reveal-1")
    wait_until(page, "document.querySelector('#media-1').src.includes('/sheet?grant=')")
    wait_until(page, "document.querySelector('#media-1').naturalWidth > 0")
    assert page.inner_text("#exposure-count") == "1"
    assert len(records(site, "evidence.reveal")) == before + 1
    src = page.evaluate("document.querySelector('#media-1').src")
    assert page.request.get(src).body() != blurred  # the unblurred sheet
    other = new_page()
    sign_in(other, site, "rob")
    assert other.request.get(src).status == 403  # a grant is for the reviewer who revealed
