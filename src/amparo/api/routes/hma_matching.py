"""HMA's matcher routes (/m/*): lookups with HMA's per-bank sampling, index status, hash comparison."""

from __future__ import annotations

import random
import time
from typing import Any

import anyio.to_thread
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from amparo.api.auth import require, require_inline
from amparo.api.routes.hma_common import (
    HMA_TO_AMPARO,
    HmaError,
    HmaRoute,
    bool_param,
    hash_bytes,
    hash_url,
    json_body,
    normalise,
    read_hma_upload,
    to_amparo_type,
)
from amparo.api.routes.hma_video import VPDQ, vpdq_lookup_impl
from amparo.store import banks_repo
from amparo.store.keys_repo import ApiPrincipal

router = APIRouter(prefix="/m", route_class=HmaRoute, tags=["hma-compatible"])
INDEX_THRESHOLD = 31  # HMA's PDQ index answers everything within 31


def _hits(svc: Any, hma_type: str, signal: str) -> list[tuple[int, int]]:
    """(entry id, distance) for every entry the index holds within reach, enabled or not (HMA's index)."""
    value = normalise(svc, hma_type, signal)
    amparo = to_amparo_type(svc, hma_type)
    if amparo == "pdq":
        return list(svc.matcher.pdq.search(bytes.fromhex(value), svc.matcher.reach(INDEX_THRESHOLD)))
    exact = svc.matcher.exact
    if exact is not None and not exact.may_contain(amparo, value):
        return []  # not banked: no database round trip (matching/exact_index.py)
    with svc.db.session() as s:
        return [(i.entry_id, 0) for i in banks_repo.lookup_exact(s, signal_type=amparo, value=value)]


def _distance(hma_type: str, d: int) -> str:
    return str(d) if hma_type == "pdq" else "-"  # pytx's pretty_str: exact types carry no distance


def _banks_param(banks: str | None) -> set[str] | None:
    return {b for b in banks.split(",")} if banks else None


def raw_lookup_impl(svc: Any, hma_type: str, signal: str, banks: set[str] | None, with_distance: bool) -> Any:
    hits = [(i, d) for i, d in _hits(svc, hma_type, signal) if hma_type != "pdq" or d <= INDEX_THRESHOLD]
    if banks is not None:
        with svc.db.session() as s:
            keep = {
                i.entry_id for i in banks_repo.entries_info(s, entry_ids=[h[0] for h in hits]) if i.bank_name in banks
            }
        hits = [h for h in hits if h[0] in keep]
    if with_distance:
        return [{"bank_content_id": i, "distance": _distance(hma_type, d)} for i, d in hits]
    return [i for i, _ in hits]


def _enabled(info: Any, disabled_until: dict[int, int], now: float) -> bool:
    if info.enabled:
        return True
    until = disabled_until.get(info.entry_id, 0)
    return until > 1 and until <= now  # HMA: a timestamp disables the entry until then


def lookup_impl(
    svc: Any, hma_type: str, signal: str, banks: set[str] | None, bypass_coinflip: bool, seed: str | None
) -> dict[str, list[dict[str, Any]]]:
    """HMA's /m/lookup: enabled entries within their bank's threshold, in banks that win the coinflip."""
    hits = dict(_hits(svc, hma_type, signal))
    if not hits:
        return {}  # nothing banked within reach: no database round trip
    with svc.db.session() as s:
        infos = banks_repo.entries_info(s, entry_ids=list(hits))
        ratios = {
            b.name: (b.enabled_ratio if b.enabled_ratio is not None else float(b.enabled))
            for b in banks_repo.list_banks(s)
        }
        disabled_until = {
            e.id: int((e.entry_metadata or {}).get("hma_disable_until_ts", 0))
            for e in (banks_repo.get_entry(s, entry_id=i.entry_id) for i in infos if not i.enabled)
        }
    # HMA draws one number per request (seeded for repeatable answers); a bank takes part when its
    # ratio is at least that number. Bypassing skips the draw. Unlike HMA, a bank at ratio 0 never
    # takes part, bypass or not: ratio 0 is how a bank is switched off (docs/api.md).
    coinflip = 0.0 if bypass_coinflip else random.Random(seed).random()
    now = time.time()
    out: dict[str, list[dict[str, Any]]] = {}
    for info in sorted(infos, key=lambda i: (hits[i.entry_id], i.entry_id)):
        d = hits[info.entry_id]
        if info.signal_type == "pdq" and d > info.pdq_threshold:
            continue
        ratio = ratios.get(info.bank_name, 0.0)
        if not _enabled(info, disabled_until, now) or ratio <= 0 or ratio < coinflip:
            continue
        if banks is not None and info.bank_name not in banks:
            continue
        out.setdefault(info.bank_name, []).append(
            {"bank_content_id": info.entry_id, "distance": _distance(hma_type, d)}
        )
    return out


def _lookup(
    svc: Any, hma_type: str, signal: str, banks: set[str] | None, bypass: bool, seed: str | None
) -> dict[str, list[dict[str, Any]]]:
    if hma_type == VPDQ:  # the frame index (hma_video.py)
        return vpdq_lookup_impl(svc, signal, banks, bypass, seed)
    return lookup_impl(svc, hma_type, signal, banks, bypass, seed)


@router.get("/raw_lookup", response_class=JSONResponse)
async def raw_lookup(
    request: Request,
    signal: str,
    signal_type: str,
    banks: str | None = None,
    include_distance: str | None = None,
    _: ApiPrincipal = Depends(require_inline("lookup")),
) -> JSONResponse:
    """Index only, as HMA: enabled/disabled state is not checked (use /m/lookup for that).
    Runs in the event loop: the index search takes microseconds, a thread hand-off more."""
    svc = request.app.state.service
    with_distance = bool_param(include_distance, False)
    # A Response skips FastAPI's re-validation and jsonable_encoder of an already plain answer.
    return JSONResponse({"matches": raw_lookup_impl(svc, signal_type, signal, _banks_param(banks), with_distance)})


@router.get("/lookup")
async def lookup_get(
    request: Request,
    signal: str | None = None,
    signal_type: str | None = None,
    url: str | None = None,
    content_type: str | None = None,
    types: str | None = None,
    banks: str | None = None,
    seed: str | None = None,
    bypass_coinflip: str | None = None,
    _: ApiPrincipal = Depends(require("lookup")),
) -> dict[str, Any]:
    svc = request.app.state.service
    wanted = _banks_param(banks)
    bypass = bool_param(bypass_coinflip, False)
    if url:
        hashes = await hash_url(request, url, content_type, types, video_hash=True)

        def by_type() -> dict[str, Any]:
            return {t: _lookup(svc, t, v, wanted, bypass, seed) for t, v in hashes.items()}

        resp = await anyio.to_thread.run_sync(by_type)
        return resp.get(signal_type, {}) if signal_type else resp
    if not signal or not signal_type:
        raise HmaError(400, "Either url or both signal and signal_type are required")
    return await anyio.to_thread.run_sync(_lookup, svc, signal_type, signal, wanted, bypass, seed)


@router.post("/lookup")
async def lookup_post(
    request: Request,
    banks: str | None = None,
    seed: str | None = None,
    bypass_coinflip: str | None = None,
    _: ApiPrincipal = Depends(require_inline("lookup")),  # no thread hand-off for the key check
) -> dict[str, Any]:
    svc = request.app.state.service
    data, types = await read_hma_upload(request, video_hash=True)
    wanted, bypass = _banks_param(banks), bool_param(bypass_coinflip, False)

    def hash_and_look_up() -> dict[str, Any]:  # one thread hand-off for both
        hashes = hash_bytes(svc, data, types)
        return {t: _lookup(svc, t, v, wanted, bypass, seed) for t, v in hashes.items()}

    return await anyio.to_thread.run_sync(hash_and_look_up)


def index_stats(svc: Any, hma_type: str) -> tuple[int, int, int]:
    """(entries in the database, entries in the live index, newest entry time) for one signal type."""
    amparo = HMA_TO_AMPARO[hma_type]
    with svc.db.session() as s:
        db_size, newest = banks_repo.signal_type_stats(s, signal_type=amparo)
    # PDQ is served from the in-memory index; exact hashes are looked up in the database itself.
    index_size = len(svc.matcher.pdq) if amparo == "pdq" else db_size
    return db_size, index_size, newest


def selected_types(signal_type: str | None) -> list[str]:
    if signal_type is None:
        return list(HMA_TO_AMPARO)
    if signal_type not in HMA_TO_AMPARO:
        raise HmaError(400, f"No such signal type '{signal_type}'")
    return [signal_type]


@router.get("/index/status")
def index_status(
    request: Request, signal_type: str | None = None, _: ApiPrincipal = Depends(require("lookup"))
) -> dict[str, Any]:
    svc = request.app.state.service
    out = {}
    for t in selected_types(signal_type):
        _db, size, newest = index_stats(svc, t)
        # Amparo's index is live (it follows every change), so it is always present.
        out[t] = {"present": True, "built_to": newest, "size": size}
    return out


@router.post("/compare")
async def compare(request: Request, _: ApiPrincipal = Depends(require("lookup"))) -> dict[str, Any]:
    svc = request.app.state.service
    body = await json_body(request)
    if not isinstance(body, dict):
        raise HmaError(400, "Request input was not a dict")
    out: dict[str, Any] = {}
    for hma_type, pair in body.items():
        if not isinstance(pair, list):
            raise HmaError(400, f"Comparison hashes for {hma_type} was not a list")
        if len(pair) != 2:
            raise HmaError(400, "Comparison hash list length must be exactly 2")
        to_amparo_type(svc, hma_type)
        left, right = normalise(svc, hma_type, pair[0]), normalise(svc, hma_type, pair[1])
        if hma_type == "pdq":
            d = (int(left, 16) ^ int(right, 16)).bit_count()
            out[hma_type] = [d <= INDEX_THRESHOLD, {"distance": d}]
        else:
            out[hma_type] = [left == right, {}]
    return out
