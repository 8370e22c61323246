"""One typed Settings object, read from AMPARO_* environment variables (env_settings.py)."""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path

from amparo.env_settings import EnvSettings, setting
from amparo.errors import ConfigurationError


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "amparo"


class Settings(EnvSettings):
    env_prefix = "AMPARO_"

    environment: str = setting(default="dev", description="dev | test | production")
    data_dir: Path = setting(default_factory=default_data_dir)
    database_url: str | None = None  # default: SQLite (WAL) in data_dir

    # Input limits: bad input is refused before decoding.
    max_upload_bytes: int = 50 * 1024 * 1024
    max_image_pixels: int = 80_000_000
    max_prompt_chars: int = 100_000  # long texts are classified in windows (docs/prompt-gate.md)
    max_animation_frames: int = 16  # frames sampled from an animated image
    # Decode budget over all frames of one image (animations decode every frame at canvas size).
    max_decode_pixels: int = 160_000_000
    max_decode_seconds: float = 10.0
    analysis_max_side: int = 1024  # JPEGs are decoded at a reduced scale that keeps at least this

    # Video (content/video.py): limits, sampling (stored beside every vPDQ), detector frame size.
    max_video_bytes: int = 200 * 1024 * 1024
    max_video_seconds: float = 3 * 3600.0
    max_video_pixels: int = 3840 * 2160
    max_video_decode_seconds: float = 600.0
    video_seconds_per_hash: float = 1.0
    video_sampling: str = "frame_index"  # frame_index (Meta's vPDQ rule) | timestamp
    video_analysis_max_side: int = 320  # sampled frames are kept this small for the detectors

    pdq_quality_floor: int = 50
    pdq_default_threshold: int = 31
    # Checks may look PDQ up by the fast reduced decode (signals then say exact=false); banks,
    # evidence, the ledger and exports always hold the reference hash of the full decode.
    pdq_fast_lookup: bool = False

    policy_file: Path | None = None  # default: the shipped default policy
    profile: str | None = None  # default jurisdiction profile, e.g. "eu-es" or "us"

    # how often each API process applies the database change feed to its index: a hash added
    # through one replica is matched by every other within about this (docs/deployment.md)
    index_refresh_seconds: float = 0.5
    # How often `amparo serve` looks for exchanges due a sync (each has its own interval); 0 = never.
    exchange_tick_seconds: float = 30.0
    retention_interval_seconds: float = 3600.0
    detectors: str = "default"  # "default" | "none" | comma-separated detector names

    # Secrets: files or values; never stored in the database.
    master_key_file: Path | None = None
    master_key: str | None = None  # hex; prefer master_key_file in production
    watermark_key: str | None = None  # hex
    session_secret: str | None = None
    # Pin the audit signing key (its 16-hex id): verification trusts it and the keys the chain
    # vouches for, never a public key file found in keys/. Unset: the key this install holds.
    audit_key_id: str | None = None

    # Rate limits on the API and the proxy, counted in the database (shared by every replica);
    # requests per window, 0 = no limit. Behind a reverse proxy, run uvicorn with --proxy-headers
    # (and --forwarded-allow-ips) so that the address is the client's, not the proxy's.
    rate_limit_per_key: int = 3000
    rate_limit_per_address: int = 6000
    rate_limit_window_seconds: int = 60

    min_free_disk_bytes: int = 100 * 1024 * 1024  # /ready says not ready below this in data_dir

    exposure_daily_limit: int = 50  # media reveals per reviewer per day (reviewer wellbeing)

    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1  # `amparo serve` worker processes (--workers); each starts ready (docs/deployment.md)
    access_log: bool = False  # one log line per request: off by default, it cost a lookup a fifth of its CPU
    upstream_url: str | None = None  # image generator behind the proxy
    upstream_api_key: str | None = None
    upstream_timeout_seconds: float = 120.0
    generator_name: str = "amparo-guarded-generator"
    video_poll_seconds: float = 2.0  # how often the video guard asks the generator how a job is going
    video_job_timeout_seconds: float = 1800.0  # a video job not finished by then fails (upstream_timeout)
    video_content_ttl_seconds: float = 24 * 3600.0  # released videos are served this long, then removed

    # `?url=` fetching on the HMA routes: off unless enabled, and then only to allowlisted public hosts.
    url_fetch_enabled: bool = False
    url_fetch_allowed_hosts: str = ""  # comma-separated hosts or parent domains; "*" = any public host
    url_fetch_max_bytes: int = 20 * 1024 * 1024
    url_fetch_timeout_seconds: float = 10.0
    url_fetch_max_redirects: int = 3
    url_fetch_allow_loopback_for_tests: bool = False  # ignored in production

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @cached_property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'amparo.db'}"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def evidence_dir(self) -> Path:
        return self.data_dir / "evidence"

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"

    def ensure_dirs(self) -> None:
        for d in (self.data_dir, self.index_dir, self.evidence_dir, self.keys_dir):
            d.mkdir(parents=True, exist_ok=True, mode=0o700)  # new directories: owner only

    def check_production_secrets(self) -> None:
        """Refuse to run in production without real secrets (no defaults outside dev)."""
        if not self.is_production:
            return
        if not (self.master_key_file or self.master_key):
            raise ConfigurationError("production needs AMPARO_MASTER_KEY_FILE (or AMPARO_MASTER_KEY)")
        if not self.session_secret:
            raise ConfigurationError("production needs AMPARO_SESSION_SECRET")
