"""Harness shim: Amparo has no exchange clients; the sample exchange's records are added as a bank."""

from OpenMediaMatch._amparo import CURRENT
from OpenMediaMatch.persistence import _Storage


def fetch_all(storage, signal_type_configs):
    c = CURRENT["client"]
    for name in _Storage.exchanges:
        assert c.post("/c/banks", json={"name": name}).status_code == 201
        for st_name, cfg in signal_type_configs.items():
            for ex in cfg.signal_type.get_examples():
                r = c.post(f"/c/bank/{name}/signal", json={st_name: ex})
                assert r.status_code == 200, r.json
    _Storage.exchanges.clear()
