"""Finding 11: /docs and /redoc loaded Swagger UI and ReDoc from a CDN and were blank offline."""

from __future__ import annotations

import re

import httpx


def test_docs_and_redoc_load_only_packaged_assets(live_api) -> None:  # type: ignore[no-untyped-def]
    url, _ = live_api
    for page in ("/docs", "/redoc"):
        r = httpx.get(f"{url}{page}")
        assert r.status_code == 200
        refs = re.findall(r'(?:src|href)="([^"]+)"', r.text) + re.findall(r"url: '([^']+)'", r.text)
        assert refs and all(ref.startswith("/") for ref in refs), refs  # nothing from another host
        assert "cdn" not in r.text.lower() and "fonts.googleapis" not in r.text
        for ref in refs:
            asset = httpx.get(f"{url}{ref}")
            assert asset.status_code == 200, ref
            if ref.endswith(".js"):
                assert len(asset.content) > 100_000  # the real bundle, not a stub
