"""C2PA manifests for generated images: sign with the private-CA signer, read and validate.

A signed manifest carries:
  * `c2pa.actions` (stored by the SDK as `c2pa.actions.v2`): for a generation one `c2pa.created`
    action with the IPTC digital source type trainedAlgorithmicMedia; for an edit `c2pa.opened`
    (pointing at the input image, embedded as a `parentOf` ingredient, with its own manifest if
    it had one) then `c2pa.edited` with compositeWithTrainedAlgorithmicMedia. The generator is
    the `softwareAgent`;
  * claim_generator_info naming the generator;
  * `org.amparo.generation` (GENERATION_ASSERTION) with the Amparo generation id;
  * optionally `c2pa.soft-binding` naming the invisible watermark that carries the same id.
No thumbnail is embedded (it would add ~100 KB and a second copy of the picture).
Reading never raises for a damaged manifest: it returns a ManifestReading with state "Invalid"
and the errors; an image without a manifest gives None.
"""

from __future__ import annotations

import base64
import io
import json
from dataclasses import dataclass
from typing import Any, Literal

import c2pa

from amparo.errors import BadInput, ConfigurationError, UnsupportedMedia
from amparo.provenance.keys import ProvenanceKeyPaths

GENERATION_ASSERTION = "org.amparo.generation"
PARENT_INGREDIENT_LABEL = "amparo-edit-input"
SOFT_BINDING_ASSERTION = "c2pa.soft-binding"
ACTIONS_LABELS = ("c2pa.actions", "c2pa.actions.v2")
WATERMARK_SOFT_BINDING_ALG = "org.amparo.watermark.v1"  # not in the C2PA soft-binding registry
IPTC_SOURCE_TYPE_PREFIX = "http://cv.iptc.org/newscodes/digitalsourcetype/"
DigitalSourceType = Literal["trainedAlgorithmicMedia", "compositeWithTrainedAlgorithmicMedia"]
DIGITAL_SOURCE_TYPES: tuple[str, ...] = (
    "trainedAlgorithmicMedia",
    "compositeWithTrainedAlgorithmicMedia",
)
SUPPORTED_MIME_TYPES = ("image/jpeg", "image/png", "image/webp")
_MIME_ALIASES = {
    "jpeg": "image/jpeg",
    "jpg": "image/jpeg",
    "image/jpg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
}
MAX_IMAGE_BYTES = 64 * 1024 * 1024
UNTRUSTED_CODE = "signingCredential.untrusted"


@dataclass(frozen=True)
class SoftBinding:
    """A soft-binding entry: `alg` identifies the watermark scheme, `value` is base64."""

    alg: str
    value: str

    @classmethod
    def for_watermark(cls, payload_id: int) -> SoftBinding:
        return cls(
            alg=WATERMARK_SOFT_BINDING_ALG,
            value=base64.b64encode(payload_id.to_bytes(8, "big")).decode("ascii"),
        )


@dataclass(frozen=True)
class ManifestReading:
    """What an image's active C2PA manifest says and whether it validates.

    validation_state: "Trusted" (chain ends at a given anchor), "Valid" (intact, signer not
    trusted), or "Invalid" (tampered or unreadable). errors lists failures other than the
    signer merely being untrusted, as "code: explanation".
    """

    validation_state: str
    digital_source_types: tuple[str, ...] = ()
    generator: str | None = None
    generation_id: str | None = None
    claim_generator: str | None = None
    signer: str | None = None
    soft_bindings: tuple[SoftBinding, ...] = ()
    errors: tuple[str, ...] = ()
    manifest_label: str | None = None
    actions: tuple[str, ...] = ()
    parent_ingredients: tuple[str, ...] = ()  # titles of `parentOf` ingredients

    @property
    def trusted(self) -> bool:
        return self.validation_state == "Trusted"

    @property
    def valid(self) -> bool:
        return self.validation_state in ("Trusted", "Valid")

    def to_dict(self) -> dict[str, Any]:
        return {
            "validation_state": self.validation_state,
            "digital_source_types": list(self.digital_source_types),
            "generator": self.generator,
            "generation_id": self.generation_id,
            "claim_generator": self.claim_generator,
            "signer": self.signer,
            "soft_bindings": [{"alg": s.alg, "value": s.value} for s in self.soft_bindings],
            "errors": list(self.errors),
            "manifest_label": self.manifest_label,
            "actions": list(self.actions),
            "parent_ingredients": list(self.parent_ingredients),
        }


def normalise_mime(mime: str) -> str:
    m = (mime or "").strip().lower()
    m = _MIME_ALIASES.get(m, m)
    if m not in SUPPORTED_MIME_TYPES:
        raise UnsupportedMedia(
            f"unsupported image type {mime!r}; C2PA signing supports {', '.join(SUPPORTED_MIME_TYPES)}"
        )
    return m


def load_signer(paths: ProvenanceKeyPaths) -> c2pa.Signer:
    """An ES256 c2pa.Signer from the chain and key written by init_provenance_keys (no TSA)."""
    try:
        chain = paths.signer_chain.read_bytes()
        key = paths.signer_key.read_bytes()
    except OSError as exc:
        raise ConfigurationError(
            f"cannot read the C2PA signer from {paths.directory}: {exc.strerror}; run `amparo provenance init`"
        ) from exc
    return signer_from_pem(chain, key)


def signer_from_pem(cert_chain_pem: bytes, private_key_pem: bytes) -> c2pa.Signer:
    info = c2pa.C2paSignerInfo(
        alg=c2pa.C2paSigningAlg.ES256,
        sign_cert=cert_chain_pem,
        private_key=private_key_pem,
        ta_url=None,  # offline: no RFC 3161 timestamp authority
    )
    try:
        return c2pa.Signer.from_info(info)
    except c2pa.C2paError as exc:
        raise ConfigurationError(f"the C2PA signer could not be loaded: {exc}") from exc


def _manifest(
    generator_name: str,
    generator_version: str | None,
    generation_id: str,
    digital_source_type: str,
    soft_binding: SoftBinding | None,
    *,
    opened_parent: bool = False,
) -> dict[str, Any]:
    agent: dict[str, str] = {"name": generator_name}
    if generator_version:
        agent["version"] = generator_version
    made = {"softwareAgent": agent, "digitalSourceType": IPTC_SOURCE_TYPE_PREFIX + digital_source_type}
    if opened_parent:
        # C2PA: an edit's first action is c2pa.opened of the parent ingredient (the input image).
        actions = [
            {"action": "c2pa.opened", "parameters": {"ingredientIds": [PARENT_INGREDIENT_LABEL]}},
            {"action": "c2pa.edited", **made},
        ]
    else:
        actions = [{"action": "c2pa.created", **made}]
    assertions: list[dict[str, Any]] = [
        {"label": "c2pa.actions", "data": {"actions": actions}},
        {
            "label": GENERATION_ASSERTION,
            "data": {"generation_id": generation_id, "generator": generator_name},
        },
    ]
    if soft_binding is not None:
        assertions.append(
            {
                "label": SOFT_BINDING_ASSERTION,
                "data": {
                    "alg": soft_binding.alg,
                    "blocks": [{"scope": {}, "value": soft_binding.value}],
                },
            }
        )
    return {"claim_generator_info": [dict(agent)], "assertions": assertions}


_SIGN_CONTEXT_SETTINGS = {"builder": {"thumbnail": {"enabled": False}}}


def sign_image(
    image_bytes: bytes,
    mime: str,
    *,
    signer: c2pa.Signer,
    generator_name: str,
    generation_id: str | int,
    digital_source_type: DigitalSourceType = "trainedAlgorithmicMedia",
    soft_binding: SoftBinding | None = None,
    generator_version: str | None = None,
    parent: tuple[bytes, str] | None = None,
) -> bytes:
    """Return `image_bytes` with an embedded, signed C2PA manifest.

    `parent`: (bytes, mime) of the image an edit started from; it becomes the `parentOf`
    ingredient that the manifest's `c2pa.opened` action names."""
    m = normalise_mime(mime)
    if digital_source_type not in DIGITAL_SOURCE_TYPES:
        raise BadInput(f"digital_source_type must be one of {', '.join(DIGITAL_SOURCE_TYPES)}")
    if not generator_name or len(generator_name) > 200:
        raise BadInput("generator_name must be 1-200 characters")
    gid = str(generation_id)
    if not gid or len(gid) > 200:
        raise BadInput("generation_id must be 1-200 characters")
    if not image_bytes:
        raise BadInput("empty image")
    if len(image_bytes) > MAX_IMAGE_BYTES:
        raise BadInput("image too large to sign")
    parent_mime = normalise_mime(parent[1]) if parent is not None else None
    if parent is not None and not parent[0]:
        raise BadInput("empty parent image")
    manifest = _manifest(
        generator_name, generator_version, gid, digital_source_type, soft_binding, opened_parent=parent is not None
    )
    dst = io.BytesIO()
    try:
        context = c2pa.Context.from_dict(_SIGN_CONTEXT_SETTINGS)
        with c2pa.Builder(manifest, context) as builder:
            if parent is not None and parent_mime is not None:
                ingredient = {"title": "input", "relationship": "parentOf", "label": PARENT_INGREDIENT_LABEL}
                builder.add_ingredient(ingredient, parent_mime, io.BytesIO(parent[0]))
            builder.sign(signer, m, io.BytesIO(image_bytes), dst)
    except c2pa.C2paError.Signature as exc:
        raise ConfigurationError(
            f"C2PA rejected the signing certificate ({exc}); C2PA refuses self-signed or "
            "CA-less signers: use the chain made by `amparo provenance init` (leaf + intermediate)",
            code="invalid_signing_certificate",
        ) from exc
    except c2pa.C2paError as exc:
        raise BadInput(f"C2PA signing failed: {exc}", code="c2pa_signing_failed") from exc
    return dst.getvalue()


def _reader_context(trust_anchors_pem: str | bytes | None) -> c2pa.Context:
    settings: dict[str, Any] = {"verify": {"verify_trust": True, "remote_manifest_fetch": False, "ocsp_fetch": False}}
    if trust_anchors_pem:
        pem = trust_anchors_pem
        if isinstance(pem, bytes):
            pem = pem.decode("ascii", "replace")
        settings["trust"] = {"trust_anchors": pem}
    return c2pa.Context.from_dict(settings)


def _status_failures(store: dict[str, Any]) -> list[dict[str, Any]]:
    results = store.get("validation_results") or {}
    active = results.get("activeManifest") or {}
    failures = list(active.get("failure") or [])
    for ingredient in results.get("ingredientDeltas") or []:
        failures.extend((ingredient.get("validationDeltas") or {}).get("failure") or [])
    failures.extend(store.get("validation_status") or [])
    return failures


def _reading_from_store(store: dict[str, Any], state: str) -> ManifestReading:
    label = store.get("active_manifest")
    manifest = (store.get("manifests") or {}).get(label) or {}
    source_types: list[str] = []
    generator: str | None = None
    generation_id: str | None = None
    bindings: list[SoftBinding] = []
    actions: list[str] = []
    for assertion in manifest.get("assertions") or []:
        name, data = assertion.get("label"), assertion.get("data") or {}
        if name in ACTIONS_LABELS:
            for action in data.get("actions") or []:
                actions.append(str(action.get("action", "")))
                dst = action.get("digitalSourceType")
                if isinstance(dst, str):
                    source_types.append(dst.removeprefix(IPTC_SOURCE_TYPE_PREFIX))
                agent = action.get("softwareAgent")
                if generator is None and isinstance(agent, dict) and agent.get("name"):
                    generator = str(agent["name"])
                elif generator is None and isinstance(agent, str):
                    generator = agent
        elif name == GENERATION_ASSERTION:
            if data.get("generation_id") is not None:
                generation_id = str(data["generation_id"])
        elif name == SOFT_BINDING_ASSERTION:
            for block in data.get("blocks") or []:
                if isinstance(block, dict) and "value" in block:
                    bindings.append(SoftBinding(str(data.get("alg", "")), str(block["value"])))
    info = manifest.get("claim_generator_info") or []
    claim_generator = None
    if isinstance(info, list) and info and isinstance(info[0], dict):
        claim_generator = info[0].get("name")
    claim_generator = claim_generator or manifest.get("claim_generator")
    sig = manifest.get("signature_info") or {}
    signer = sig.get("common_name") or sig.get("issuer")
    errors: list[str] = []
    for failure in _status_failures(store):
        code = str(failure.get("code", "unknown"))
        if code == UNTRUSTED_CODE:
            continue
        text = f"{code}: {failure.get('explanation', '')}".rstrip(": ")
        if text not in errors:
            errors.append(text)
    return ManifestReading(
        validation_state=state,
        digital_source_types=tuple(dict.fromkeys(source_types)),
        generator=generator or claim_generator,
        generation_id=generation_id,
        claim_generator=claim_generator,
        signer=signer,
        soft_bindings=tuple(bindings),
        errors=tuple(errors),
        manifest_label=label,
        actions=tuple(actions),
        parent_ingredients=tuple(
            str(i.get("title", ""))
            for i in manifest.get("ingredients") or []
            if isinstance(i, dict) and i.get("relationship") == "parentOf"
        ),
    )


def read_manifest(
    image_bytes: bytes, mime: str, trust_anchors_pem: str | bytes | None = None
) -> ManifestReading | None:
    """Read and validate the image's C2PA manifest; None when it carries none.

    With `trust_anchors_pem` (e.g. the root certificate from `amparo provenance init`) a good
    manifest reads "Trusted"; without anchors it reads "Valid". Damage gives "Invalid" + errors.
    """
    m = normalise_mime(mime)
    if not image_bytes:
        raise BadInput("empty image")
    try:
        context = _reader_context(trust_anchors_pem)
        reader = c2pa.Reader.try_create(m, io.BytesIO(image_bytes), context=context)
        if reader is None:
            return None
        with reader:
            store = json.loads(reader.json())
            state = str(reader.get_validation_state() or store.get("validation_state") or "")
    except c2pa.C2paError as exc:
        kind = type(exc).__name__.lstrip("_").removeprefix("C2pa") or "C2paError"
        text = str(exc) if str(exc).startswith(kind) else f"{kind}: {exc}"
        return ManifestReading(validation_state="Invalid", errors=(text,))
    except (ValueError, TypeError, OSError) as exc:  # malformed JSON from the SDK, odd bytes
        return ManifestReading(validation_state="Invalid", errors=(f"unreadable manifest: {exc}",))
    if state not in ("Trusted", "Valid", "Invalid"):
        state = "Invalid"
    return _reading_from_store(store, state)


def watermark_soft_binding(payload_id: int) -> SoftBinding:
    """The soft-binding entry naming Amparo's watermark (scheme `amparo-wm-v1`) and its id."""
    return SoftBinding.for_watermark(payload_id)
