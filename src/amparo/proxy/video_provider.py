"""Video generators behind the proxy: one interface, the OpenAI Videos API as one implementation.

A provider takes a job, says how it is going, and hands over the finished bytes. The proxy owns
everything else (gate, scan, stamp, ledger), so another generator (a hosted model with another
API, a local model) only needs these five calls. OpenAI announced the shutdown of its Videos API
(Sora) for 24 September 2026 (developers.openai.com/api/docs/guides/video-generation): point
AMPARO_UPSTREAM_URL at any service that speaks the same routes, or implement VideoProvider.

OpenAIVideosProvider speaks <base>/videos (create, multipart), <base>/videos/{id} (retrieve,
delete), <base>/videos/{id}/remix and <base>/videos/{id}/content. The upstream key goes only to
the upstream; its error texts are never relayed (upstream.py's rules)."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from amparo.proxy.openai_errors import UpstreamFailure
from amparo.proxy.upstream import _garbage, _raise_for_status, _read_capped
from amparo.proxy.videos_request import VideoRequest

log = logging.getLogger(__name__)

STATUSES = ("queued", "in_progress", "completed", "failed")
MAX_JOB_JSON = 256 * 1024


@dataclass(frozen=True)
class ProviderJob:
    id: str
    status: str  # queued | in_progress | completed | failed
    progress: int = 0
    error_code: str | None = None


class VideoProvider(Protocol):
    name: str

    def create(self, req: VideoRequest) -> ProviderJob: ...

    def remix(self, upstream_id: str, prompt: str) -> ProviderJob: ...

    def retrieve(self, upstream_id: str) -> ProviderJob: ...

    def download(self, upstream_id: str) -> bytes: ...

    def delete(self, upstream_id: str) -> None: ...


class OpenAIVideosProvider:
    name = "openai-videos"

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None,
        timeout_s: float,
        max_video_bytes: int,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self.timeout_s = timeout_s
        self.max_video_bytes = max_video_bytes
        self._client = httpx.Client(timeout=httpx.Timeout(timeout_s), follow_redirects=False, transport=transport)

    def __repr__(self) -> str:  # never print the key
        return f"OpenAIVideosProvider({self.base_url!r})"

    def close(self) -> None:
        self._client.close()

    def _headers(self, accept: str = "application/json") -> dict[str, str]:
        h = {"Accept": accept, "User-Agent": "amparo-proxy/0.1"}
        if self._api_key:
            h["Authorization"] = f"Bearer {self._api_key}"
        return h

    def _send(self, method: str, path: str, limit: int, accept: str = "application/json", **kw: Any) -> bytes:
        url = f"{self.base_url}/{path}"
        try:
            with self._client.stream(method, url, headers=self._headers(accept), **kw) as resp:
                raw = _read_capped(resp, limit)
                status = resp.status_code
        except httpx.TimeoutException:
            log.warning("upstream %s %s timed out after %.1f s", method, path.split("/")[0], self.timeout_s)
            raise UpstreamFailure(
                "the video generator did not answer in time", code="upstream_timeout", status=504
            ) from None
        except httpx.HTTPError as e:
            log.warning("upstream %s unreachable: %s", path.split("/")[0], e.__class__.__name__)
            raise UpstreamFailure("the video generator could not be reached", code="upstream_unavailable") from None
        if status >= 400:
            _raise_for_status(status, raw)
        return raw

    def _job(self, raw: bytes) -> ProviderJob:
        try:
            body = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            raise _garbage("the video job is not JSON") from None
        if not isinstance(body, dict) or not isinstance(body.get("id"), str) or body.get("status") not in STATUSES:
            raise _garbage("the video job has no id or status")
        progress = body.get("progress")
        err = body.get("error")
        code = err.get("code") if isinstance(err, dict) and isinstance(err.get("code"), str) else None
        return ProviderJob(
            id=body["id"][:200],
            status=body["status"],
            progress=int(progress) if isinstance(progress, int) and 0 <= progress <= 100 else 0,
            error_code=code[:64] if code else None,
        )

    def create(self, req: VideoRequest) -> ProviderJob:
        data = {k: str(v) for k, v in req.forward.items()}
        data["prompt"] = req.prompt
        files: list[tuple[str, tuple[str | None, bytes, str]]]
        if req.reference is not None:
            files = [("input_reference", (req.reference.filename, req.reference.data, req.reference.mime))]
        else:  # the client always sends multipart; so do we
            files = [("prompt", (None, req.prompt.encode("utf-8"), "text/plain"))]
            data.pop("prompt")
        return self._job(self._send("POST", "videos", MAX_JOB_JSON, data=data, files=files))

    def remix(self, upstream_id: str, prompt: str) -> ProviderJob:
        return self._job(self._send("POST", f"videos/{upstream_id}/remix", MAX_JOB_JSON, json={"prompt": prompt}))

    def retrieve(self, upstream_id: str) -> ProviderJob:
        return self._job(self._send("GET", f"videos/{upstream_id}", MAX_JOB_JSON))

    def download(self, upstream_id: str) -> bytes:
        t0 = time.perf_counter()
        raw = self._send(
            "GET",
            f"videos/{upstream_id}/content",
            self.max_video_bytes,
            accept="application/binary",
            params={"variant": "video"},
        )
        log.info("upstream video downloaded: %d bytes in %.2f s", len(raw), time.perf_counter() - t0)
        if not raw:
            raise _garbage("the video is empty")
        return raw

    def delete(self, upstream_id: str) -> None:
        self._send("DELETE", f"videos/{upstream_id}", MAX_JOB_JSON)
