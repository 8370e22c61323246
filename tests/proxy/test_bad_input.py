"""Bad input and a failing upstream: a clear OpenAI-style error, a ledger row, no stack trace,
no upstream secret in the answer."""

from __future__ import annotations

import io
from typing import Any

import httpx
import openai
import pytest
from conftest import free_port
from PIL import Image

from .conftest import SMALL, UPSTREAM_KEY
from .sample_images import png_bytes

GEN = "/v1/images/generations"
EDIT = "/v1/images/edits"


def assert_clean_error(resp: httpx.Response, status: int, code: str, param: str | None = None) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    text = resp.text
    assert "Traceback" not in text and UPSTREAM_KEY not in text and 'File "' not in text
    err = resp.json()["error"]
    assert set(err) >= {"message", "type", "param", "code"}
    assert err["code"] == code and err["message"]
    if param is not None:
        assert err["param"] == param
    return err  # type: ignore[no-any-return]


def assert_ledgered(proxy, err: dict[str, Any], stage: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    ref = err.get("amparo_reference")
    assert ref, "every ledgered error carries its reference"
    rec = proxy.ledger.get(ref)
    assert rec is not None and rec["decision"] == "error" and rec["stage"] == stage
    assert rec["reasons"][-1]["code"] == err["code"]
    return rec  # type: ignore[no-any-return]


@pytest.fixture
def http(proxy):  # type: ignore[no-untyped-def]
    with httpx.Client(
        base_url=proxy.url,
        headers={"Authorization": f"Bearer {proxy.keys['submitter']}"},
        timeout=30,
    ) as c:
        yield c


@pytest.mark.parametrize(
    ("body", "code", "param"),
    [
        (b"{not json", "invalid_json", None),
        (b"", "invalid_json", None),
        (b"[1, 2]", "invalid_json", None),
        (b'{"n": 1}', "missing_required_parameter", "prompt"),
        (b'{"prompt": 12}', "invalid_type", "prompt"),
        (b'{"prompt": "   "}', "empty_string", "prompt"),
        (b'{"prompt": "a cat", "n": 0}', "integer_out_of_range", "n"),
        (b'{"prompt": "a cat", "n": "many"}', "invalid_type", "n"),
        (b'{"prompt": "a cat", "response_format": "gif"}', "invalid_value", "response_format"),
        (b'{"prompt": "a cat", "stream": true}', "unsupported_value", "stream"),
        (b'{"prompt": "a cat", "size": {"w": 1}}', "invalid_type", "size"),
        (b'{"prompt": "a cat", "Bad-Field": 1}', "unknown_parameter", None),
    ],
)
def test_malformed_generation_requests(proxy, http, body: bytes, code: str, param: str | None) -> None:  # type: ignore[no-untyped-def]
    r = http.post(GEN, content=body, headers={"Content-Type": "application/json"})
    err = assert_clean_error(r, 400, code, param)
    assert_ledgered(proxy, err, "input")
    assert proxy.controls.requests == []


def test_huge_prompt_via_openai_client(proxy) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(openai.BadRequestError) as ei:
        proxy.client.images.generate(prompt="a quiet lake " * 400, size=SMALL)
    assert ei.value.body["code"] == "string_above_max_length" and ei.value.body["param"] == "prompt"
    assert proxy.controls.requests == []


def test_body_over_the_limit(proxy, http) -> None:  # type: ignore[no-untyped-def]
    r = http.post(
        GEN,
        content=b'{"prompt": "' + b"a" * 900_000 + b'"}',
        headers={"Content-Type": "application/json"},
    )
    assert_ledgered(proxy, assert_clean_error(r, 413, "request_too_large"), "input")


def files_for(
    image: bytes | None = None, *, prompt: str | None = "add a tree", mask: bytes | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if image is not None:
        out["image"] = ("in.png", image, "image/png")
    if mask is not None:
        out["mask"] = ("mask.png", mask, "image/png")
    return out


def gif_bytes() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (10, 200, 30)).save(buf, "GIF")
    return buf.getvalue()


@pytest.mark.parametrize(
    ("case", "status", "code", "param"),
    [
        ("missing_image", 400, "missing_required_parameter", "image"),
        ("missing_prompt", 400, "missing_required_parameter", "prompt"),
        ("gif_image", 400, "invalid_image_format", "image"),
        ("text_as_image", 400, "invalid_image_format", "image"),
        ("truncated_png", 400, "invalid_image", "image"),
        ("bad_mask", 400, "invalid_image_format", "mask"),
        ("empty_image", 400, "invalid_image", "image"),
    ],
)
def test_malformed_edit_requests(proxy, http, case: str, status: int, code: str, param: str) -> None:  # type: ignore[no-untyped-def]
    good = png_bytes(256, 3)
    data = {"prompt": "add a tree"}
    files = {
        "missing_image": {},
        "missing_prompt": files_for(good),
        "gif_image": {"image": ("in.gif", gif_bytes(), "image/gif")},
        "text_as_image": {"image": ("in.png", b"hello, not an image", "image/png")},
        "truncated_png": files_for(good[: len(good) // 2]),
        "bad_mask": {
            "image": ("in.png", good, "image/png"),
            "mask": ("m.png", b"GIF89a....", "image/png"),
        },
        "empty_image": {"image": ("in.png", b"", "image/png")},
    }[case]
    if case == "missing_prompt":
        data = {}
    if not files:  # a multipart body with only text fields
        r = http.post(EDIT, data=data, files={"other": ("x.txt", b"x", "text/plain")})
    else:
        r = http.post(EDIT, data=data, files=files)
    err = assert_clean_error(r, status, code, param)
    assert_ledgered(proxy, err, "input")
    assert proxy.controls.requests == []


def test_edit_not_multipart_and_malformed_multipart(proxy, http) -> None:  # type: ignore[no-untyped-def]
    r = http.post(EDIT, json={"prompt": "x"})
    assert_ledgered(proxy, assert_clean_error(r, 400, "invalid_content_type"), "input")
    r = http.post(
        EDIT,
        content=b'--zzz\r\nContent-Disposition: form-data; name="image"; filename="a"\r\n\r\nabc',
        headers={"Content-Type": "multipart/form-data; boundary=zzz"},
    )
    assert r.status_code == 400 and r.json()["error"]["code"] in (
        "invalid_multipart",
        "missing_required_parameter",
    )
    assert_clean_error(r, 400, r.json()["error"]["code"])
    r = http.post(EDIT, content=b"garbage", headers={"Content-Type": "multipart/form-data"})
    assert_clean_error(r, 400, r.json()["error"]["code"])
    assert r.json()["error"]["code"] in ("invalid_multipart", "missing_required_parameter")


def test_huge_and_oversized_images(proxy, http) -> None:  # type: ignore[no-untyped-def]
    big = png_bytes(1024, 4)
    proxy.service.settings.max_upload_bytes = len(big) - 1
    r = http.post(EDIT, data={"prompt": "add a tree"}, files=files_for(big))
    assert_ledgered(proxy, assert_clean_error(r, 413, "image_too_large", "image"), "input")
    proxy.service.settings.max_upload_bytes = 50 * 1024 * 1024
    proxy.service.settings.max_image_pixels = 300 * 300  # a 1024x1024 image is now a "bomb"
    r = http.post(EDIT, data={"prompt": "add a tree"}, files=files_for(big))
    assert_ledgered(proxy, assert_clean_error(r, 413, "image_too_large", "image"), "input")
    assert proxy.controls.requests == []


@pytest.mark.parametrize(
    ("mode", "status", "code"),
    [
        ("timeout", 504, "upstream_timeout"),
        ("error", 502, "upstream_error"),
        ("garbage", 502, "upstream_invalid_response"),
        ("garbage_image", 502, "upstream_invalid_response"),
    ],
)
def test_failing_upstream(proxy, http, mode: str, status: int, code: str) -> None:  # type: ignore[no-untyped-def]
    proxy.controls.mode = mode
    r = http.post(GEN, json={"prompt": "a green field", "size": SMALL})
    err = assert_clean_error(r, status, code)
    rec = assert_ledgered(proxy, err, "upstream")
    assert rec["prompt_stored"] and rec["outputs"] == []


def test_upstream_auth_failure_never_leaks_the_key(proxy) -> None:  # type: ignore[no-untyped-def]
    proxy.controls.expected_key = "sk-another-key"  # the stand-in quotes the key it was given
    with pytest.raises(openai.APIStatusError) as ei:
        proxy.client.images.generate(prompt="a green field", size=SMALL)
    assert ei.value.status_code == 502 and ei.value.body["code"] == "upstream_auth_failed"
    assert UPSTREAM_KEY not in ei.value.response.text
    assert UPSTREAM_KEY not in repr(proxy.generations()[-1].reasons)


def test_unreachable_upstream(sqlite_settings, upstream, prompt_gate) -> None:  # type: ignore[no-untyped-def]
    from .conftest import running_proxy

    dead = (f"http://127.0.0.1:{free_port()}/v1", upstream[1])
    with running_proxy(sqlite_settings, dead, prompt_gate) as p:
        with pytest.raises(openai.APIStatusError) as ei:
            p.client.images.generate(prompt="a green field", size=SMALL)
        assert ei.value.status_code == 502 and ei.value.body["code"] == "upstream_unavailable"
        assert p.last()["decision"] == "error"


def test_authentication(proxy) -> None:  # type: ignore[no-untyped-def]
    before = len(proxy.generations())
    r = httpx.post(proxy.url + GEN, json={"prompt": "a cat"})
    assert_clean_error(r, 401, "invalid_api_key")
    assert r.json()["error"]["type"] == "authentication_error"
    r = httpx.post(proxy.url + GEN, json={"prompt": "a cat"}, headers={"Authorization": "Bearer amp_x_y"})
    assert_clean_error(r, 401, "invalid_api_key")
    r = httpx.post(
        proxy.url + GEN,
        json={"prompt": "a cat"},
        headers={"Authorization": f"Bearer {proxy.keys['auditor']}"},
    )
    assert_clean_error(r, 403, "insufficient_permissions")
    assert len(proxy.generations()) == before  # unauthenticated traffic is not ledgered
