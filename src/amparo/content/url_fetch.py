"""Fetch media by URL for the opt-in `?url=` routes, without becoming a way into the private network.

Each hop (the first request and every redirect) is checked the same way:
- http or https only, no credentials in the URL, host on the allowlist;
- the host is resolved once and every address must be public (no private, loopback, link-local,
  multicast, reserved or unspecified range); the connection then goes to that checked address, so a
  second DNS answer (rebinding) can never switch it;
- redirects are followed by hand (at most `max_redirects`) and re-checked from the start.
The body is streamed under a byte cap and a wall-clock deadline. Proxy variables are ignored: a proxy
would resolve the name itself and undo the pinning."""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import SplitResult, urljoin, urlsplit

import httpx

from amparo.errors import BadInput, TooLarge

Resolver = Callable[[str, int], list[str]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class FetchPolicy:
    allowed_hosts: tuple[str, ...]  # exact host or parent domain; "*" = any public host
    max_bytes: int
    timeout_seconds: float
    max_redirects: int = 3
    allow_loopback: bool = False  # tests only: lets an allowlisted local server be fetched


@dataclass(frozen=True)
class Fetched:
    url: str  # the final URL, after redirects
    content_type: str
    data: bytes


class UrlRefused(BadInput):
    code = "url_refused"


class UrlFetchFailed(BadInput):
    code = "url_fetch_failed"


def system_resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError) as e:
        raise UrlFetchFailed(f"cannot resolve host {host!r}: {e}") from None
    return [str(info[4][0]) for info in infos]


def address_allowed(ip: IPAddress, *, allow_loopback: bool = False) -> bool:
    mapped = getattr(ip, "ipv4_mapped", None)
    if mapped is not None:  # ::ffff:10.0.0.1 is 10.0.0.1
        ip = mapped
    if ip.is_loopback:
        return allow_loopback
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_link_local or ip.is_unspecified)


def host_allowed(host: str, allowed: tuple[str, ...]) -> bool:
    """Exact host, or a subdomain of an entry; an IP address only matches itself ("0.0.1" is no parent
    of "127.0.0.1")."""
    host = host.lower().rstrip(".")
    try:
        ipaddress.ip_address(host)
        is_ip = True
    except ValueError:
        is_ip = False
    for entry in allowed:
        entry = entry.strip().lower().rstrip(".")
        if entry == "*" or (entry and (host == entry or (not is_ip and host.endswith("." + entry)))):
            return True
    return False


def _check_url(url: str, policy: FetchPolicy) -> tuple[SplitResult, str, int]:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UrlRefused("malformed URL") from None
    if parts.scheme not in ("http", "https"):
        raise UrlRefused("only http and https URLs are fetched")
    if parts.username is not None or parts.password is not None:
        raise UrlRefused("credentials in the URL are not accepted")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise UrlRefused("the URL has no host")
    if not host.isascii() or not host.isprintable() or any(c in host for c in " /\\@"):
        raise UrlRefused("use the ASCII (punycode) form of the host name")
    if not host_allowed(host, policy.allowed_hosts):
        raise UrlRefused(f"host {host!r} is not on the URL-fetch allowlist")
    return parts, host, port or (443 if parts.scheme == "https" else 80)


def _pinned_address(host: str, port: int, policy: FetchPolicy, resolve: Resolver) -> IPAddress:
    try:
        literal: IPAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    candidates = [literal] if literal is not None else []
    if literal is None:
        for a in resolve(host, port):
            try:
                candidates.append(ipaddress.ip_address(a.split("%", 1)[0]))
            except ValueError:
                raise UrlRefused(f"host {host!r} resolved to an unusable address") from None
    if not candidates:
        raise UrlFetchFailed(f"host {host!r} has no address")
    # Every answer must be public: one private answer among public ones is how rebinding starts.
    for ip in candidates:
        if not address_allowed(ip, allow_loopback=policy.allow_loopback):
            raise UrlRefused(f"host {host!r} resolves to a non-public address")
    return candidates[0]


def fetch(url: str, policy: FetchPolicy, *, resolve: Resolver = system_resolve) -> Fetched:
    """The body at `url`, or UrlRefused / UrlFetchFailed (400) / TooLarge (413)."""
    deadline = time.monotonic() + policy.timeout_seconds
    current = url
    for _hop in range(policy.max_redirects + 1):
        parts, host, port = _check_url(current, policy)
        ip = _pinned_address(host, port, policy, resolve)
        location, fetched = _request(parts, host, port, ip, policy, deadline)
        if fetched is not None:
            return fetched
        current = urljoin(current, location)
    raise UrlRefused(f"more than {policy.max_redirects} redirects")


def _request(
    parts: SplitResult, host: str, port: int, ip: IPAddress, policy: FetchPolicy, deadline: float
) -> tuple[str, Fetched | None]:
    """One request to the pinned address: (redirect location, None) or ("", the body)."""
    netloc = f"[{ip}]" if ip.version == 6 else str(ip)
    default_port = 443 if parts.scheme == "https" else 80
    target = f"{parts.scheme}://{netloc}:{port}{parts.path or '/'}" + (f"?{parts.query}" if parts.query else "")
    host_header = host if port == default_port else f"{host}:{port}"
    extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
    remaining = max(0.1, deadline - time.monotonic())
    timeout = httpx.Timeout(remaining)
    try:
        with httpx.Client(trust_env=False, follow_redirects=False, timeout=timeout) as client:
            req = client.build_request("GET", target, headers={"Host": host_header}, extensions=extensions)
            r = client.send(req, stream=True)
            try:
                if r.is_redirect:
                    location = r.headers.get("location")
                    if not location:
                        raise UrlFetchFailed(f"HTTP {r.status_code} without a Location")
                    return location, None
                if r.status_code >= 400:
                    raise UrlFetchFailed(f"the URL answered HTTP {r.status_code}")
                declared = r.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > policy.max_bytes:
                    raise TooLarge(f"the remote file is over the limit of {policy.max_bytes} bytes")
                body = bytearray()
                for chunk in r.iter_bytes():
                    body += chunk
                    if len(body) > policy.max_bytes:
                        raise TooLarge(f"the remote file is over the limit of {policy.max_bytes} bytes")
                    if time.monotonic() > deadline:
                        raise UrlFetchFailed(f"the fetch took longer than {policy.timeout_seconds} s")
                return "", Fetched(parts.geturl(), r.headers.get("content-type", ""), bytes(body))
            finally:
                r.close()
    except httpx.TimeoutException:
        raise UrlFetchFailed(f"the fetch took longer than {policy.timeout_seconds} s") from None
    except httpx.HTTPError as e:
        raise UrlFetchFailed(f"the fetch failed: {type(e).__name__}") from None
