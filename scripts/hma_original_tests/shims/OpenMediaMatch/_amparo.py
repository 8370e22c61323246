"""Harness (outside git): a live Amparo over HTTP behind the Flask-test-client interface HMA's tests use."""

import os
import sys
import tempfile
import typing as t
from pathlib import Path

import httpx

REPO = Path(os.environ["AMPARO_REPO"])
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "src"))
from conftest import LiveServer, free_port, make_settings  # noqa: E402

CURRENT: dict[str, t.Any] = {}


class Resp:
    def __init__(self, r: httpx.Response) -> None:
        self.status_code = r.status_code
        self._r = r

    @property
    def json(self):
        try:
            return self._r.json()
        except ValueError:
            return None

    def get_json(self):
        return self.json


class Client:
    """The subset of flask.testing.FlaskClient that HMA's tests call, over real HTTP."""

    def __init__(self, base_url: str, key: str) -> None:
        self._c = httpx.Client(base_url=base_url, auth=("hma", key), timeout=60)

    def open(self, method, url, json=None, query_string=None, data=None):
        params = {k: (str(v).lower() if isinstance(v, bool) else v) for k, v in (query_string or {}).items()}
        return Resp(self._c.request(method, url, json=json, params=params or None, data=data))

    def get(self, url, **kw):
        return self.open("GET", url, **kw)

    def post(self, url, **kw):
        return self.open("POST", url, **kw)

    def put(self, url, **kw):
        return self.open("PUT", url, **kw)

    def delete(self, url, **kw):
        return self.open("DELETE", url, **kw)


class App:
    def __init__(self, client: Client) -> None:
        self._client = client

    def test_client(self) -> Client:
        return self._client


def start():
    import uuid

    from amparo.api.factory import build_app
    from amparo.service import Service
    from amparo.store import keys_repo

    tmp = Path(tempfile.mkdtemp())
    url = f"sqlite:///{tmp / 'amparo.db'}"
    if os.environ.get("HARNESS_PG"):
        import sqlalchemy as sa

        schema = "hma_" + uuid.uuid4().hex[:10]
        base = os.environ.get("AMPARO_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
        with sa.create_engine(base, isolation_level="AUTOCOMMIT").connect() as c:
            c.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        url = f"{base}?options=-csearch_path%3D{schema}"
    settings = make_settings(tmp, url).model_copy(
        update={
            "url_fetch_enabled": True,
            "url_fetch_allowed_hosts": "127.0.0.1,github.com",
            "url_fetch_allow_loopback_for_tests": True,
        }
    )
    svc = Service(settings)
    with svc.db.session() as s:
        _, key = keys_repo.create_key(s, name="hma-tests", role="admin")
    srv = LiveServer(build_app(svc), free_port()).__enter__()
    client = Client(srv.url, key)
    CURRENT.update(client=client, srv=srv, svc=svc)
    return App(client), srv, svc


def stop(srv, svc) -> None:
    srv.__exit__(None, None, None)
    svc.close()
