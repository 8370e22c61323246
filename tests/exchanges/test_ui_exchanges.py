"""The reviewer UI's exchanges page: auditors see the state, only admins sync."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from review.conftest import PASSWORD, password_hash

from amparo.banks.exchanges import operations
from amparo.store import exchanges_repo, review_repo
from exchanges.conftest import STOPNCII_CONFIG

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def sign_in(client: TestClient, name: str) -> None:
    token = CSRF_RE.search(client.get("/ui/login").text).group(1)  # type: ignore[union-attr]
    r = client.post("/ui/login", data={"name": name, "password": PASSWORD, "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303


def test_exchanges_page(service: Any, who: Any, stopncii: Any) -> None:
    from amparo.api.factory import build_app

    url, state = stopncii
    state.records = [
        {
            "lastModtimestamp": 50,
            "signalType": "ImagePDQ",
            "hashValue": "a" * 64,
            "hashStatus": "Active",
            "caseNumbers": {},
        },
        {
            "lastModtimestamp": 51,
            "signalType": "ImagePDQ",
            "hashValue": "b" * 30,
            "hashStatus": "Active",
            "caseNumbers": {},
        },
    ]
    with service.db.session() as s:
        operations.add_exchange(s, who, name="sn", kind="stopncii", bank="sn", category="ncii",
                                config={**STOPNCII_CONFIG, "base_url": url}, interval_s=0)  # fmt: skip
        operations.add_partner(s, who, name="peer-es", banks=["sn"])
        for name, role in (("ada", "admin"), ("otto", "auditor"), ("rita", "reviewer")):
            review_repo.insert_user(s, name=name, role=role, password_hash=password_hash())
    app = build_app(service)

    rita = TestClient(app)
    sign_in(rita, "rita")
    assert rita.get("/ui/exchanges").status_code == 403

    otto = TestClient(app)
    sign_in(otto, "otto")
    page = otto.get("/ui/exchanges")
    assert page.status_code == 200 and 'data-exchange="sn"' in page.text and "never" in page.text
    assert 'data-partner="peer-es"' in page.text and "Sync now" not in page.text
    token = CSRF_RE.search(page.text).group(1)  # type: ignore[union-attr]
    assert otto.post("/ui/exchanges/sn/sync", data={"csrf_token": token}, follow_redirects=False).status_code == 403

    ada = TestClient(app)
    sign_in(ada, "ada")
    page = ada.get("/ui/exchanges")
    token = CSRF_RE.search(page.text).group(1)  # type: ignore[union-attr]
    assert ada.post("/ui/exchanges/sn/sync", data={}, follow_redirects=False).status_code in (400, 403)  # no CSRF token
    r = ada.post("/ui/exchanges/sn/sync", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and "status=ok" in r.headers["location"]
    page = ada.get("/ui/exchanges").text
    assert "Skipped: malformed PDQ hash" in page and '<td class="status-ok">ok</td>' in page
    with service.db.session() as s:
        _, st = exchanges_repo.list_exchanges(s)[0]
        assert st.added == 1 and st.skipped == 1
