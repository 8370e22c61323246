"""Child process for test_crash: captures evidence and stops at a chosen point so that the
parent can kill it with SIGKILL there. The code under test is the real vault; the child
only adds a pause (print PAUSED, sleep) at the named step."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from amparo.audit.trail import AuditTrail
from amparo.evidence import vault as vault_module
from amparo.evidence.vault import Vault
from amparo.settings import Settings
from amparo.store import evidence_repo
from amparo.store.database import Database

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from review.media import draw_landscape  # noqa: E402


def pause(fn: Any, *, before: bool = False) -> Any:
    def wrapper(*a: Any, **kw: Any) -> Any:
        out = None if before else fn(*a, **kw)
        print("PAUSED", flush=True)
        time.sleep(600)
        return out

    return wrapper


def main() -> None:
    data_dir, url, mode = sys.argv[1], sys.argv[2], sys.argv[3]
    settings = Settings(
        environment="test",
        data_dir=Path(data_dir),
        database_url=url,
        master_key="11" * 32,
        session_secret="s" * 32,
    )
    db = Database(url)
    audit = AuditTrail(settings.keys_dir)
    vault = Vault.open(settings, db, audit, recover_min_age_seconds=1e9)
    if mode == "after-temp":
        Vault._write_temp = pause(Vault._write_temp)  # type: ignore[method-assign]
    elif mode == "after-row":
        evidence_repo.insert_item = pause(evidence_repo.insert_item)
    elif mode == "after-commit":
        vault_module._publish = pause(vault_module._publish, before=True)
    print("READY", flush=True)
    i = 0
    while True:
        i += 1
        with db.session() as s:
            vault.capture(
                s, data=draw_landscape(i, size=(160, 120)), item_id=f"crash-{i}", event_id=i
            )
        print(f"STORED {i}", flush=True)


if __name__ == "__main__":
    main()
