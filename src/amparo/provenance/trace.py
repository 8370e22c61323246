"""Trace an image back to the generation that made it, from the generation ledger.

Tried in order, the first that links to a ledger record wins:
  1. C2PA manifest (names the generation id; its soft binding names the output's watermark id);
  2. exact SHA-256 of a returned output (the file as the proxy sent it);
  3. the keyed invisible watermark (survives re-encoding, resizing and cropping);
  4. PDQ against every returned output (Hamming distance within the threshold). PDQ alone does
     not survive cropping (a 10 % crop moves it ~60-140 bits), so the ledger also keeps the PDQ
     of each output's central 80 % (`centre_pdq`) and the query is probed with crops of itself
     at 4 sizes x 9 positions plus the whole (37 probes, PROBE_FRACTIONS x PROBE_OFFSETS): one
     of them covers the same central region for crops of up to ~15 % per side. The best counts.
A video goes to trace_video.py (C2PA in the MP4, SHA-256, then vPDQ against the ledger's frames).
Each answer says how it was found and how confident the link is:
  * c2pa: 1.0 when the manifest is trusted (signed under our root), 0.6 when it is intact but
    its signer is not ours (anyone can write a generation id into a manifest);
  * sha256: 1.0;
  * watermark: 1 - 2^-20 (the keyed 24-bit check passes by chance about once in 16 million
    tries, times the few offsets and scales tried); the decoder's own margin is in `evidence`;
  * pdq: 0.9 at distance 0 falling linearly to 0.5 at the threshold: near-duplicates of other
    pictures can also be close, so every candidate within the threshold is listed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from amparo.content.mime import sniff_image_mime
from amparo.content.video import is_video
from amparo.errors import BadInput, TooLarge, UnsupportedMedia
from amparo.provenance.c2pa_signing import WATERMARK_SOFT_BINDING_ALG, read_manifest
from amparo.provenance.watermark import read_watermark
from amparo.signals.hashes.pdq import pdq_of_array, pdq_of_bytes

CONFIDENCE_C2PA_TRUSTED = 1.0
CONFIDENCE_C2PA_UNTRUSTED = 0.6
CONFIDENCE_SHA256 = 1.0
CONFIDENCE_WATERMARK = 1.0 - 2.0**-20
PDQ_CONFIDENCE_AT_ZERO = 0.9
PDQ_CONFIDENCE_AT_THRESHOLD = 0.5
DEFAULT_PDQ_THRESHOLD = 31
MAX_TRACE_BYTES = 64 * 1024 * 1024
MAX_PDQ_CANDIDATES = 10
CENTRE_FRACTION = 0.8  # the region of each output whose PDQ is stored as pdq_centre
PROBE_FRACTIONS = (0.8, 0.84, 0.89, 0.94, 1.0)  # = CENTRE_FRACTION / kept share of the side
PROBE_OFFSETS = (-0.06, 0.0, 0.06)  # centre shifts (share of the side) for off-centre crops
PROBE_SIDE = 512  # the query is reduced to this before probing (PDQ works at 64x64 anyway)


@dataclass(frozen=True)
class TraceResult:
    found: bool
    method: str | None  # "c2pa" | "sha256" | "watermark" | "pdq"
    confidence: float
    generation: dict[str, Any] | None = None  # the ledger record (no prompt)
    output_index: int | None = None
    evidence: dict[str, Any] = field(default_factory=dict)  # what matched, per method
    candidates: list[dict[str, Any]] = field(default_factory=list)  # other PDQ candidates
    steps: list[dict[str, Any]] = field(default_factory=list)  # every method tried and what it said

    def to_dict(self) -> dict[str, Any]:
        return {
            "found": self.found,
            "method": self.method,
            "confidence": round(self.confidence, 6),
            "generation": self.generation,
            "output_index": self.output_index,
            "evidence": self.evidence,
            "candidates": self.candidates,
            "steps": self.steps,
        }


def _pdq_bits(hexes: list[str]) -> np.ndarray:
    raw = np.frombuffer(b"".join(bytes.fromhex(h) for h in hexes), dtype=np.uint8)
    return raw.reshape(len(hexes), 32)


_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def hamming(query: str, matrix: np.ndarray) -> np.ndarray:
    """Distances from one PDQ (hex) to the rows of a (n, 32) uint8 matrix of PDQs."""
    if not len(matrix):
        return np.zeros(0, dtype=np.int32)
    q = np.frombuffer(bytes.fromhex(query), dtype=np.uint8)
    return _POPCOUNT[np.bitwise_xor(matrix, q[None, :])].sum(axis=1, dtype=np.int32)


def pdq_distances(query: str, stored: list[str]) -> np.ndarray:
    """Hamming distances from one PDQ to many (a linear scan)."""
    return hamming(query, _pdq_bits(stored) if stored else np.zeros((0, 32), np.uint8))


def crop_fraction(rgb: np.ndarray, fraction: float, cy: float = 0.5, cx: float = 0.5) -> np.ndarray:
    """The window of `fraction` of each side centred at (cy, cx) (shares of a side), kept inside."""
    h, w = rgb.shape[:2]
    ch, cw = max(1, int(h * fraction)), max(1, int(w * fraction))
    y0 = min(max(int(round(cy * h - ch / 2)), 0), h - ch)
    x0 = min(max(int(round(cx * w - cw / 2)), 0), w - cw)
    return rgb[y0 : y0 + ch, x0 : x0 + cw]


def centre_pdq(rgb: np.ndarray) -> str:
    """PDQ of the central CENTRE_FRACTION of an output (stored in the ledger as pdq_centre)."""
    return pdq_of_array(np.ascontiguousarray(crop_fraction(rgb, CENTRE_FRACTION)))[0]


def probe_pdqs(rgb: np.ndarray) -> list[str]:
    """PDQs of crops of a query that line up with an output's central region after a crop."""
    h, w = rgb.shape[:2]
    scale = PROBE_SIDE / max(h, w)
    if scale < 1.0:
        rgb = np.asarray(
            Image.fromarray(rgb).resize((max(1, int(w * scale)), max(1, int(h * scale))), Image.Resampling.BILINEAR)
        )
    out = []
    for f in PROBE_FRACTIONS:
        for dy in PROBE_OFFSETS:
            for dx in PROBE_OFFSETS:
                if f == 1.0 and (dy or dx):
                    continue  # the whole query has one position
                out.append(pdq_of_array(np.ascontiguousarray(crop_fraction(rgb, f, 0.5 + dy, 0.5 + dx)))[0])
    return out


def pdq_confidence(distance: int, threshold: int) -> float:
    if threshold <= 0:
        return PDQ_CONFIDENCE_AT_ZERO if distance == 0 else 0.0
    frac = min(max(distance / threshold, 0.0), 1.0)
    return PDQ_CONFIDENCE_AT_ZERO - (PDQ_CONFIDENCE_AT_ZERO - PDQ_CONFIDENCE_AT_THRESHOLD) * frac


class Tracer:
    """`ledger` is an amparo.proxy.ledger.GenerationLedger (or anything with its read methods)."""

    def __init__(
        self,
        ledger: Any,
        *,
        watermark_key: bytes | None,
        trust_anchor_pem: str | None,
        pdq_threshold: int = DEFAULT_PDQ_THRESHOLD,
        max_pixels: int = 80_000_000,
    ) -> None:
        self.ledger = ledger
        self.watermark_key = watermark_key
        self.trust_anchor_pem = trust_anchor_pem
        self.pdq_threshold = pdq_threshold
        self.max_pixels = max_pixels

    @classmethod
    def for_service(cls, service: Any, *, watermark_key: bytes | None | str = "settings") -> Tracer:
        """Keys as the proxy uses them; pass watermark_key=None to trace without one."""
        from amparo.proxy.ledger import GenerationLedger
        from amparo.proxy.stamping import trust_anchor_for, watermark_key_for

        s = service.settings
        key: bytes | None
        if watermark_key == "settings":
            try:
                key = watermark_key_for(s)
            except Exception:  # no key configured: the other methods still work
                key = None
        else:
            key = watermark_key if isinstance(watermark_key, bytes) else None
        return cls(
            GenerationLedger.for_service(service),
            watermark_key=key,
            trust_anchor_pem=trust_anchor_for(s),
            pdq_threshold=int(s.pdq_default_threshold),
            max_pixels=int(s.max_image_pixels),
        )

    def trace(self, data: bytes) -> TraceResult:
        if not data:
            raise BadInput("the image is empty", code="empty")
        if is_video(data):  # a generated video: C2PA in the MP4, SHA-256, vPDQ (trace_video.py)
            from amparo.provenance.trace_video import trace_video

            return trace_video(self, data)
        if len(data) > MAX_TRACE_BYTES:
            raise TooLarge(f"the image is over {MAX_TRACE_BYTES} bytes")
        rgb = self._decode(data)
        steps: list[dict[str, Any]] = []
        for step in (self._by_manifest, self._by_sha256, self._by_watermark, self._by_pdq):
            result = step(data, rgb, steps)
            if result is not None:
                return result
        return TraceResult(found=False, method=None, confidence=0.0, steps=steps)

    # -- methods ---------------------------------------------------------------------------------
    def _decode(self, data: bytes) -> np.ndarray:
        Image.MAX_IMAGE_PIXELS = self.max_pixels
        try:
            with Image.open(io.BytesIO(data)) as img:
                if img.width * img.height > self.max_pixels:
                    raise TooLarge(f"the image has more than {self.max_pixels} pixels")
                return np.asarray(img.convert("RGB"))
        except (UnidentifiedImageError, Image.DecompressionBombError):
            raise UnsupportedMedia("not a recognised image") from None
        except (OSError, SyntaxError, ValueError, EOFError) as e:
            raise BadInput(f"the image could not be decoded ({e.__class__.__name__})", code="bad_image") from None

    def _record(
        self,
        method: str,
        confidence: float,
        generation_id: str,
        output_index: int | None,
        evidence: dict[str, Any],
        steps: list[dict[str, Any]],
        candidates: list[dict[str, Any]] | None = None,
    ) -> TraceResult | None:
        record = self.ledger.get(generation_id)
        if record is None:
            steps.append({"method": method, "result": "not in the ledger", "generation_id": generation_id})
            return None
        steps.append({"method": method, "result": "found", "generation_id": generation_id})
        return TraceResult(
            found=True,
            method=method,
            confidence=confidence,
            generation=record,
            output_index=output_index,
            evidence=evidence,
            candidates=candidates or [],
            steps=steps,
        )

    def _by_manifest(self, data: bytes, rgb: np.ndarray, steps: list[dict[str, Any]]) -> TraceResult | None:
        mime = sniff_image_mime(data)
        if mime is None:
            steps.append({"method": "c2pa", "result": "format cannot carry a manifest"})
            return None
        reading = read_manifest(data, mime, self.trust_anchor_pem)
        if reading is None:
            steps.append({"method": "c2pa", "result": "no manifest"})
            return None
        if not reading.valid or not reading.generation_id:
            steps.append(
                {
                    "method": "c2pa",
                    "result": f"manifest {reading.validation_state}",
                    "errors": list(reading.errors),
                }
            )
            return None
        index = None
        for sb in reading.soft_bindings:
            if sb.alg == WATERMARK_SOFT_BINDING_ALG:
                try:
                    wm = int.from_bytes(base64.b64decode(sb.value, validate=True), "big")
                except (binascii.Error, ValueError):
                    continue
                index = next(
                    (i for g, i in self.ledger.outputs_by_watermark(wm) if g == reading.generation_id),
                    None,
                )
        conf = CONFIDENCE_C2PA_TRUSTED if reading.trusted else CONFIDENCE_C2PA_UNTRUSTED
        return self._record("c2pa", conf, reading.generation_id, index, {"manifest": reading.to_dict()}, steps)

    def _by_sha256(self, data: bytes, rgb: np.ndarray, steps: list[dict[str, Any]]) -> TraceResult | None:
        sha = hashlib.sha256(data).hexdigest()
        hits = self.ledger.outputs_by_sha256(sha)
        if not hits:
            steps.append({"method": "sha256", "result": "no exact copy"})
            return None
        gid, index = hits[0]
        return self._record("sha256", CONFIDENCE_SHA256, gid, index, {"sha256": sha}, steps)

    def _by_watermark(self, data: bytes, rgb: np.ndarray, steps: list[dict[str, Any]]) -> TraceResult | None:
        if self.watermark_key is None:
            steps.append({"method": "watermark", "result": "no watermark key configured"})
            return None
        reading = read_watermark(rgb, self.watermark_key)
        if reading is None:
            steps.append({"method": "watermark", "result": "no watermark under this key"})
            return None
        hits = self.ledger.outputs_by_watermark(reading.id)
        if not hits:
            steps.append(
                {
                    "method": "watermark",
                    "result": "watermark id not in the ledger",
                    "watermark_id": reading.id,
                }
            )
            return None
        gid, index = hits[0]
        evidence = {
            "watermark_id": reading.id,
            "decoder_confidence": reading.confidence,
            "bit_errors": reading.bit_errors,
            "coded_bits": reading.coded_bits,
            "pilot_score": reading.pilot_score,
            "scale": reading.scale,
            "method": reading.method,
        }
        return self._record("watermark", CONFIDENCE_WATERMARK, gid, index, evidence, steps)

    def _by_pdq(self, data: bytes, rgb: np.ndarray, steps: list[dict[str, Any]]) -> TraceResult | None:
        try:
            query, quality = pdq_of_bytes(data, max_pixels=self.max_pixels)
            probes = probe_pdqs(rgb)
        except Exception:  # an odd file PIL opened above but PDQ cannot: say so, do not crash
            steps.append({"method": "pdq", "result": "could not hash"})
            return None
        rows = self.ledger.output_pdqs()  # (generation_id, index, pdq, pdq_centre)
        dist = pdq_distances(query, [r[2] for r in rows])
        how = np.zeros(len(rows), dtype=bool)  # True: matched through the central region
        with_centre = np.array([i for i, r in enumerate(rows) if r[3]], dtype=np.int64)
        if len(with_centre):
            centres = _pdq_bits([rows[i][3] for i in with_centre])  # parsed once for all probes
            best = np.min(np.stack([hamming(p, centres) for p in probes]), axis=0)
            better = best < dist[with_centre]
            dist[with_centre[better]] = best[better]
            how[with_centre[better]] = True
        order = np.argsort(dist, kind="stable")
        within = [int(i) for i in order if dist[i] <= self.pdq_threshold][:MAX_PDQ_CANDIDATES]
        if not within:
            best = int(dist[order[0]]) if len(order) else None
            steps.append(
                {
                    "method": "pdq",
                    "result": "no output within the threshold",
                    "threshold": self.pdq_threshold,
                    "closest_distance": best,
                    "quality": quality,
                }
            )
            return None
        candidates = [
            {
                "generation_id": rows[i][0],
                "output_index": rows[i][1],
                "distance": int(dist[i]),
                "region": "centre" if how[i] else "whole",
                "confidence": round(pdq_confidence(int(dist[i]), self.pdq_threshold), 4),
            }
            for i in within
        ]
        top = candidates[0]
        evidence = {
            "pdq": query,
            "quality": quality,
            "distance": top["distance"],
            "region": top["region"],
            "threshold": self.pdq_threshold,
            "probes": len(probes),
        }
        return self._record(
            "pdq",
            pdq_confidence(top["distance"], self.pdq_threshold),
            top["generation_id"],
            top["output_index"],
            evidence,
            steps,
            candidates[1:],
        )
