"""Malformed requests drawn from the app's own OpenAPI spec (hypothesis), and the finding-5 regressions.

Every operation in the spec gets requests whose path, query, JSON, multipart and text bodies mix
plausible values with the seed atoms of fuzz_corpus.json (huge and negative integers, lone
surrogates, NUL bytes, over-long strings, deep nesting, wrong types). The contract: never a 5xx."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from hypothesis import strategies as st

CORPUS = json.loads((Path(__file__).parent / "fuzz_corpus.json").read_text())
ATOMS: list[str] = CORPUS["strings"] + [s * n for s, n in CORPUS["repeat"]]
INTS: list[int] = CORPUS["integers"]
URL_ATOMS = [a for a in ATOMS if len(a) <= 6000]  # clients refuse URLs over 64 KiB; servers cap lines too
SKIP_PATHS = ("/health", "/ready", "/status")  # no input to fuzz


@dataclass
class FuzzRequest:
    method: str
    path: str  # already percent-encoded
    headers: dict[str, str] = field(default_factory=dict)
    content: bytes | None = None
    files: dict[str, Any] | None = None
    data: dict[str, Any] | None = None

    def describe(self) -> str:
        body = (self.content or b"")[:80]
        return f"{self.method} {self.path[:160]} {self.headers.get('content-type', '')} {body!r}"


def enc(value: Any) -> str:
    """Percent-encode any value for a URL, lone surrogates included (as the bytes a client sends)."""
    return quote(str(value).encode("utf-8", "surrogatepass"), safe="")


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    ops = []
    for path, items in sorted(spec["paths"].items()):
        if path.startswith(SKIP_PATHS) or path.startswith("/v1/images/files"):
            continue
        for method, op in sorted(items.items()):
            ops.append((method.upper(), path, op))
    return ops


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = spec["components"]["schemas"][name]
    return schema


atom = st.sampled_from(ATOMS)
url_atom = st.sampled_from(URL_ATOMS)
nasty_scalar = st.one_of(
    atom,
    st.sampled_from(INTS),
    st.sampled_from(CORPUS["floats"]),
    st.booleans(),
    st.none(),
    st.text(max_size=40),
)


def value_for(
    spec: dict[str, Any], schema: dict[str, Any], depth: int = 0, *, in_url: bool = False
) -> st.SearchStrategy[Any]:
    """A value shaped like the schema most of the time, and anything at all some of the time."""
    schema = _resolve(spec, schema)
    if in_url:  # a path or query value: a scalar, short enough for a URL
        return st.one_of(
            url_atom, st.sampled_from(INTS), st.text(max_size=40), st.sampled_from(schema.get("enum") or ["x"])
        )
    if depth > 3:
        return nasty_scalar
    if "anyOf" in schema or "oneOf" in schema:
        options = schema.get("anyOf") or schema.get("oneOf")
        return st.one_of(*[value_for(spec, s, depth + 1) for s in options], nasty_scalar)
    kind = schema.get("type")
    if "enum" in schema:
        shaped: st.SearchStrategy[Any] = st.sampled_from(schema["enum"])
    elif "const" in schema:
        shaped = st.just(schema["const"])
    elif kind == "integer":
        shaped = st.one_of(st.sampled_from(INTS), st.integers(-(2**70), 2**70))
    elif kind == "number":
        shaped = st.one_of(st.sampled_from(CORPUS["floats"]), st.integers(-(2**70), 2**70))
    elif kind == "boolean":
        shaped = st.booleans()
    elif kind == "string":
        shaped = st.one_of(atom, st.text(max_size=60))
    elif kind == "array":
        item = value_for(spec, schema.get("items", {}), depth + 1)
        shaped = st.lists(item, max_size=4)
    elif kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        required = schema.get("required", [])
        shaped = st.fixed_dictionaries(
            {k: value_for(spec, props[k], depth + 1) for k in required if k in props},
            optional={k: value_for(spec, v, depth + 1) for k, v in props.items() if k not in required},
        )
    else:
        shaped = nasty_scalar
    return st.one_of(shaped, shaped, shaped, nasty_scalar)  # mostly shaped: reach the code behind validation


def _json_body(spec: dict[str, Any], schema: dict[str, Any]) -> st.SearchStrategy[bytes]:
    good = value_for(spec, schema).map(lambda v: json.dumps(v, ensure_ascii=True).encode())
    broken = st.sampled_from(
        [b"", b"{", b"[1,", b"nul", b'{"a": "\\ud800"}', b"\xff\xfe", b"[" * 5000 + b"]" * 5000, b"1e99999"]
    )
    return st.one_of(good, good, good, broken)


@st.composite
def request_for(draw: st.DrawFn, spec: dict[str, Any], method: str, path: str, op: dict[str, Any]) -> FuzzRequest:
    url = path
    query: list[str] = []
    for p in op.get("parameters", []):
        schema = p.get("schema", {})
        if p["in"] == "path":
            value = draw(
                st.one_of(
                    st.just("FUZZ") if schema.get("type") == "string" else st.just(1),
                    value_for(spec, schema, in_url=True),
                )
            )
            url = url.replace("{" + p["name"] + "}", enc(value) or "x")
        elif p["in"] == "query" and draw(st.booleans()):
            query.append(f"{enc(p['name'])}={enc(draw(value_for(spec, schema, in_url=True)))}")
    if query:
        url += "?" + "&".join(query)
    req = FuzzRequest(method, url)
    content = op.get("requestBody", {}).get("content", {})
    if "application/json" in content:
        req.headers["content-type"] = "application/json"
        req.content = draw(_json_body(spec, content["application/json"].get("schema", {})))
    elif "multipart/form-data" in content:
        schema = _resolve(spec, content["multipart/form-data"].get("schema", {}))
        files: dict[str, Any] = {}
        data: dict[str, Any] = {}
        for name, prop in schema.get("properties", {}).items():
            prop = _resolve(spec, prop)
            if prop.get("format") == "binary" or prop.get("contentMediaType"):
                blob = draw(st.sampled_from([b"", b"GIF89a", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"\x00" * 64]))
                fname = draw(st.sampled_from(["a.jpg", "", "\ud800.png", "a" * 300, "x\x00.gif"]))
                files[name] = (fname.encode("utf-8", "surrogatepass").decode("utf-8", "replace"), blob)
            elif draw(st.booleans()):
                v = draw(value_for(spec, prop))
                text = json.dumps(v) if isinstance(v, (dict, list)) else ("" if v is None else str(v))
                data[name] = text.encode("utf-8", "surrogatepass")  # lone surrogates go out as raw bytes
        req.files, req.data = files or None, data or None
    elif "text/plain" in content:
        rows = draw(st.lists(st.sampled_from(ATOMS), max_size=4))
        req.headers["content-type"] = "text/plain"
        req.content = "\n".join(",".join([r, "pdq", r]) for r in rows).encode("utf-8", "surrogatepass")
    elif method in ("POST", "PUT", "PATCH"):
        req.headers["content-type"] = draw(st.sampled_from(["application/json", "multipart/form-data; boundary=x"]))
        req.content = draw(_json_body(spec, {}))
    return req


def any_request(spec: dict[str, Any]) -> st.SearchStrategy[FuzzRequest]:
    return st.one_of(*[request_for(spec, m, p, op) for m, p, op in operations(spec)])


def regressions(rng: random.Random | None = None) -> list[FuzzRequest]:
    """The 500s found by the attack (issue 14, finding 5), each as a request."""
    j = {"content-type": "application/json"}
    big = 2**70
    out = [
        FuzzRequest("GET", f"/v1/events/{big}"),
        FuzzRequest("GET", f"/v1/events/{2**63}"),
        FuzzRequest("GET", f"/v1/events?after_id={big}"),
        FuzzRequest("GET", f"/v1/banks/FUZZ/entries?after_id={big}&limit={big}"),
        FuzzRequest("PATCH", f"/v1/banks/FUZZ/entries/{big}", j, b'{"enabled": false}'),
        FuzzRequest("DELETE", f"/v1/banks/FUZZ/entries/{big}"),
        FuzzRequest("GET", f"/v1/appeals/{big}"),
        FuzzRequest("GET", f"/c/bank/FUZZ/content/{big}"),
        FuzzRequest("GET", "/v1/banks/" + enc("\ud800")),
        FuzzRequest("GET", "/v1/banks/a%00b"),
        FuzzRequest("POST", "/v1/banks", j, b'{"name": "X\\ud800", "category": "other"}'),
        FuzzRequest("POST", "/v1/banks", j, b'{"name": "N\\u0000UL", "category": "other"}'),
        FuzzRequest(
            "POST", "/v1/banks", j, json.dumps({"name": "D", "category": "other", "description": "\x00"}).encode()
        ),
        FuzzRequest("POST", "/v1/banks", j, json.dumps({"name": "L" * 300, "category": "other"}).encode()),
        FuzzRequest("POST", "/v1/banks/FUZZ/entries", j, b'{"entries": [{"signal_type": "md5", "value": "\\ud800"}]}'),
        FuzzRequest(
            "POST",
            "/v1/banks/FUZZ/entries",
            j,
            b'{"entries": [{"signal_type": "md5", "value": "' + b"a" * 32 + b'", "metadata": {"k": "\\u0000"}}]}',
        ),
        FuzzRequest("POST", "/v1/check/prompt", j, json.dumps({"prompt": "a boat", "account": "a" * 201}).encode()),
        FuzzRequest("POST", "/v1/check/prompt", j, b'{"prompt": "a boat\\u0000", "account": "\\u0000"}'),
        FuzzRequest("POST", "/v1/check/prompt", j, b'{"prompt": "a \\udfff boat", "surface": "\\ud800"}'),
        FuzzRequest("POST", "/v1/lookup", j, b'{"signals": [{"type": "pdq", "value": "\\u0000"}]}'),
        FuzzRequest("POST", "/v1/appeals", j, b'{"event_id": ' + str(big).encode() + b', "statement": "x"}'),
        FuzzRequest(
            "POST",
            "/v1/banks/FUZZ/import?format=csv",
            {"content-type": "text/plain"},
            b"signal_type,value\npdq," + b"f" * (129 * 1024) + b"\n",
        ),
        FuzzRequest("POST", "/v1/banks/FUZZ/import?format=csv", {"content-type": "text/plain"}, b"\xff\xfe\x00bad"),
        FuzzRequest("POST", "/c/banks", j, b'{"name": "FUZZ_B", "enabled_ratio": "lots"}'),
        FuzzRequest("POST", "/c/banks", j, b'{"name": "FUZZ_C", "enabled_ratio": 1e309}'),
        FuzzRequest("PUT", "/c/bank/FUZZ", j, b'{"enabled_ratio": -5}'),
        FuzzRequest("PUT", "/c/bank/FUZZ", j, b'{"enabled_ratio": "NaN"}'),
        FuzzRequest("POST", "/v1/lookup", j, b"[" * 100000 + b"]" * 100000),
        FuzzRequest(
            "POST",
            "/v1/check",
            None,
            None,
            files={"file": ("a.jpg", b"\xff\xd8\xff")},
            data={"account": "a" * 5000, "surface": "\x00"},
        ),
    ]
    return out
