"""Harness shim: the storage calls HMA's tests make, done through Amparo's HMA routes over HTTP."""

from dataclasses import dataclass

from threatexchange.signal_type.md5 import VideoMD5Signal
from threatexchange.signal_type.pdq.signal import PdqSignal

from OpenMediaMatch._amparo import CURRENT

_TYPES = {"pdq": PdqSignal, "video_md5": VideoMD5Signal}


@dataclass
class _SignalCfg:
    signal_type: type
    enabled_ratio: float

    @property
    def enabled(self) -> bool:
        return self.enabled_ratio > 0


class _Storage:
    exchanges: dict = {}

    @property
    def _c(self):
        return CURRENT["client"]

    def get_signal_type_configs(self):
        listed = self._c.get("/c/signal_type").json
        return {d["name"]: _SignalCfg(_TYPES[d["name"]], d["enabled_ratio"]) for d in listed}

    def get_signal_type_index(self, signal_type):
        return None  # Amparo keeps no separately built index object: the index follows every write

    def bank_update(self, cfg, create=False, rename_from=None):
        r = self._c.post("/c/banks", json={"name": cfg.name, "enabled_ratio": cfg.matching_enabled_ratio})
        assert r.status_code == 201, r.json

    def bank_add_content(self, bank, signals, config=None):
        r = self._c.post(f"/c/bank/{bank}/signal", json={st.get_name(): v for st, v in signals.items()})
        assert r.status_code == 200, r.json
        return r.json["id"]

    def exchange_api_config_update(self, cfg):
        pass

    def exchange_update(self, cfg, create=False):
        _Storage.exchanges[cfg.name] = cfg


def get_storage():
    return _Storage()
