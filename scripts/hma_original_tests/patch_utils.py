"""Replace only the `app`/`client` fixtures (and their imports) in HMA's tests/utils.py: a fresh live
Amparo per test, reached over HTTP. Everything else in the file is left as HMA wrote it."""

import sys
from pathlib import Path

path = Path(sys.argv[1])
text = path.read_text()
imports = (
    "from OpenMediaMatch.app import create_app\n"
    "from OpenMediaMatch.persistence import get_storage\n"
    "from OpenMediaMatch.storage.postgres.flask_utils import reset_tables\n"
    "from OpenMediaMatch.storage.postgres import database\n"
    "from sqlalchemy.sql import text\n"
)
if imports not in text:
    sys.exit("tests/utils.py is not the version this harness knows; check the fixtures by hand")
text = text.replace(imports, "from OpenMediaMatch import _amparo\n")
start, end = text.index("@pytest.fixture()\ndef app()"), text.index("def create_bank(")
fixtures = """@pytest.fixture()
def app() -> t.Iterator[Flask]:
    app, srv, svc = _amparo.start()  # a fresh Amparo (new database) per test, as HMA resets its tables
    try:
        yield app
    finally:
        _amparo.stop(srv, svc)


@pytest.fixture()
def client(app) -> FlaskClient:
    return app.test_client()


"""
path.write_text(text[:start] + fixtures + text[end:])
