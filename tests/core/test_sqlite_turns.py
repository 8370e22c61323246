"""Writers to one SQLite file take turns (store/sqlite_turns.py): the turn is taken by a transaction's
first write, held to its commit or rollback, never by a reader, and it is the same turn for every
process on the host (another `WriteTurns` on the file stands for another process)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from sqlalchemy import text

from amparo.store.database import make_engine
from amparo.store.sqlite_turns import WriteTurns


def _engine(tmp_path: Path):  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'turns.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
    return engine


def _free(tmp_path: Path) -> bool:
    """Whether another process could take the turn now."""
    other = WriteTurns(tmp_path / "turns.db")
    try:
        took = other.take(wait_s=0.05)
        if took:
            other.give_back()
        return took
    finally:
        other.close()


def test_a_write_holds_the_turn_until_commit_and_a_read_never_takes_it(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    with engine.connect() as conn:
        conn.execute(text("SELECT count(*) FROM t")).scalar()
        assert _free(tmp_path)  # reading takes no turn
        conn.execute(text("INSERT INTO t (v) VALUES ('a')"))
        assert not _free(tmp_path)
        conn.execute(text("UPDATE t SET v = 'b'"))  # the same transaction: still one turn
        conn.commit()
        assert _free(tmp_path)
        conn.execute(text("DELETE FROM t"))
        assert not _free(tmp_path)
        conn.rollback()
        assert _free(tmp_path)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT v FROM t")).scalars().all() == ["b"]
        conn.execute(text("INSERT INTO t (v) VALUES ('c')"))
    assert _free(tmp_path)  # closed without a commit: rolled back, turn given back
    engine.dispose()


def test_writers_in_threads_wait_for_the_turn_and_all_commit(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    order: list[str] = []
    holding = threading.Event()

    def holder() -> None:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO t (v) VALUES ('holder')"))
            holding.set()
            time.sleep(0.3)
            order.append("holder commits")

    def writer(n: int) -> None:
        holding.wait()
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO t (v) VALUES (:v)"), {"v": f"w{n}"})
            order.append(f"w{n}")

    threads = [threading.Thread(target=holder)] + [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert order[0] == "holder commits", order  # nobody wrote past the holder's open transaction
    assert sorted(order[1:]) == ["w0", "w1", "w2", "w3"]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 5
    assert _free(tmp_path)
    engine.dispose()


def test_another_process_holding_the_turn_makes_a_writer_wait_not_fail(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    other = WriteTurns(tmp_path / "turns.db")
    assert other.take()
    done = threading.Event()

    def writer() -> None:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO t (v) VALUES ('x')"))
        done.set()

    t = threading.Thread(target=writer)
    t.start()
    assert not done.wait(0.3)  # waiting for the other process's turn
    other.give_back()
    assert done.wait(10)
    t.join()
    other.close()
    engine.dispose()


def test_a_turn_not_given_back_in_time_is_waited_for_no_longer_than_the_busy_timeout(tmp_path: Path) -> None:
    turns = WriteTurns(tmp_path / "turns.db")
    other = WriteTurns(tmp_path / "turns.db")
    assert other.take()
    started = time.monotonic()
    assert turns.take(wait_s=0.2) is False
    assert 0.2 <= time.monotonic() - started < 2
    other.give_back()
    assert turns.take(wait_s=0.2) is True  # and the thread lock was given back on the way out
    turns.give_back()
    turns.close()
    other.close()


def test_a_lookup_does_not_wait_for_another_writer_to_note_its_keys_use(sqlite_service, caplog) -> None:  # type: ignore[no-untyped-def]
    """The key's last-used time is written on a lookup only when the turn is free at once, and a
    rate-limit reservation waits half a second at most: while a bulk import (here another process's
    turn) holds SQLite's writer, lookups answer without waiting, the limiter lets them through with
    one warning for all of them, and the time is noted by a later request."""
    import httpx
    from conftest import LiveServer, free_port

    from amparo.api import auth
    from amparo.api.factory import build_app
    from amparo.store import keys_repo
    from amparo.store.tables import ApiKeyRow

    with sqlite_service.db.session() as s:
        row, key = keys_repo.create_key(s, name="lookups", role="reviewer")
        s.flush()
        key_id = row.id
    auth._touched.clear()  # another test's key with the same id may count as touched just now

    def last_used():  # type: ignore[no-untyped-def]
        with sqlite_service.db.session() as s:
            return s.get(ApiKeyRow, key_id).last_used_at

    other = WriteTurns(Path(sqlite_service.settings.resolved_database_url.removeprefix("sqlite:///")))
    with LiveServer(build_app(sqlite_service), free_port()) as srv, httpx.Client(base_url=srv.url, timeout=60) as c:
        params = {"signal_type": "pdq", "signal": "0" * 64}
        headers = {"Authorization": f"Bearer {key}"}
        assert other.take()
        for _ in range(3):
            started = time.monotonic()
            with caplog.at_level("WARNING", logger="amparo.api"):
                assert c.get("/m/raw_lookup", params=params, headers=headers).status_code == 200
            assert time.monotonic() - started < 5  # not the 30 s a waiting writer would take
        assert last_used() is None
        busy = [r for r in caplog.records if "database writer busy" in r.getMessage()]
        assert len(busy) == 1, [r.getMessage() for r in caplog.records]
        other.give_back()
        assert c.get("/m/raw_lookup", params=params, headers=headers).status_code == 200
        assert last_used() is not None
    other.close()
