"""Screenshots of /protect for docs/screenshots/: desktop (1280 px) and phone (390 px) widths, in
Spanish and English, plus the receipt after a submission of a benign shared test image and the case
page after a withdrawal. A throwaway instance on SQLite in a temporary directory; Debian Chromium.

    PYTHONPATH=src python scripts/protect_screenshots.py [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
IMAGE = REPO.parent / "shared" / "data" / "pdq" / "bridge-mods" / "aaa-orig.jpg"
CHROMIUM = os.environ.get("AMPARO_CHROMIUM", "/usr/bin/chromium")
SIZES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    args = ap.parse_args()
    os.environ.setdefault("AMPARO_PROTECT_POW_BITS", "12")
    import playwright.sync_api as pw
    import uvicorn

    from amparo.api.factory import build_app
    from amparo.service import Service
    from amparo.settings import Settings

    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            environment="test",
            data_dir=Path(tmp),
            database_url=f"sqlite:///{tmp}/amparo.db",
            master_key="11" * 32,
            session_secret="s" * 32,
            detectors="none",
        )
        service = Service(settings)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(build_app(service), host="127.0.0.1", port=port, log_level="warning"))
        threading.Thread(target=server.run, daemon=True).start()
        while not server.started:
            time.sleep(0.05)
        url = f"http://127.0.0.1:{port}"
        written = []
        with pw.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"])
            for lang in ("es", "en"):
                for size, viewport in SIZES.items():
                    ctx = browser.new_context(viewport=viewport, is_mobile=size == "phone", has_touch=size == "phone")
                    page = ctx.new_page()
                    page.goto(f"{url}/protect?lang={lang}")
                    page.wait_for_selector("#protect-form:not([hidden])")
                    path = args.out / f"protect-{lang}-{size}.png"
                    page.screenshot(path=str(path), full_page=True)
                    written.append(path)
                    if size == "phone":
                        page.set_input_files("#files", str(IMAGE))
                        page.wait_for_selector("#files-status:not(:empty)")
                        page.check("#confirm")
                        page.click("#send")
                        page.wait_for_selector("#receipt:not([hidden])", timeout=60_000)
                        path = args.out / f"protect-{lang}-phone-receipt.png"
                        page.screenshot(path=str(path), full_page=True)
                        written.append(path)
                        number, secret = page.inner_text("#case-number"), page.inner_text("#case-secret")
                        page.goto(f"{url}/protect/case?lang={lang}")
                        page.fill("#case_number", number)
                        page.fill("#secret", secret)
                        page.click("#withdraw")
                        page.wait_for_selector("#case-status[data-status=withdrawn]")
                        path = args.out / f"protect-{lang}-phone-withdrawn.png"
                        page.screenshot(path=str(path), full_page=True)
                        written.append(path)
                    ctx.close()
            browser.close()
        server.should_exit = True
        service.close()
    for path in written:
        print(path.relative_to(REPO) if path.is_relative_to(REPO) else path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
