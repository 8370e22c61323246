"""Provenance key material: a private C2PA PKI (root CA -> intermediate CA -> ES256 signer) and
the secret watermark key, written as PEM / hex files in one directory.

C2PA rejects a self-signed signing certificate, so even a self-hosted deployment needs a CA:
the root signs an intermediate, which signs the leaf that signs manifests. The leaf carries
`digitalSignature` key usage and the extended key usages C2PA accepts (emailProtection and
documentSigning). Readers that should say "Trusted" need the root certificate as a trust anchor.
Private keys are written with mode 0600. Keep the root key offline in production (or use an HSM
via c2pa's Signer.from_callback); it is only needed to re-issue the intermediate.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

from amparo.errors import ConfigurationError, Conflict
from amparo.provenance.watermark import WatermarkKey

ROOT_CERT_FILE = "root-ca.pem"
ROOT_KEY_FILE = "root-ca.key"
INTERMEDIATE_CERT_FILE = "intermediate-ca.pem"
INTERMEDIATE_KEY_FILE = "intermediate-ca.key"
SIGNER_CERT_FILE = "signer.pem"
SIGNER_KEY_FILE = "signer.key"
SIGNER_CHAIN_FILE = "signer-chain.pem"  # leaf then intermediate, as c2pa wants it (no root)
WATERMARK_KEY_FILE = "watermark.key"  # 32 random bytes, hex
WATERMARK_KEY_ENV = "AMPARO_WATERMARK_KEY"
PROVENANCE_DIR_ENV = "AMPARO_PROVENANCE_DIR"
PROVENANCE_SUBDIR = "provenance"

ROOT_VALIDITY_DAYS = 3650
INTERMEDIATE_VALIDITY_DAYS = 1825
SIGNER_VALIDITY_DAYS = 730
DOCUMENT_SIGNING_EKU = ObjectIdentifier("1.3.6.1.5.5.7.3.36")
_PRIVATE_MODE = 0o600


@dataclass(frozen=True)
class ProvenanceKeyPaths:
    directory: Path
    root_cert: Path
    root_key: Path
    intermediate_cert: Path
    intermediate_key: Path
    signer_cert: Path
    signer_key: Path
    signer_chain: Path
    watermark_key: Path

    @classmethod
    def in_directory(cls, directory: str | os.PathLike[str]) -> ProvenanceKeyPaths:
        d = Path(directory)
        return cls(
            directory=d,
            root_cert=d / ROOT_CERT_FILE,
            root_key=d / ROOT_KEY_FILE,
            intermediate_cert=d / INTERMEDIATE_CERT_FILE,
            intermediate_key=d / INTERMEDIATE_KEY_FILE,
            signer_cert=d / SIGNER_CERT_FILE,
            signer_key=d / SIGNER_KEY_FILE,
            signer_chain=d / SIGNER_CHAIN_FILE,
            watermark_key=d / WATERMARK_KEY_FILE,
        )

    def all_files(self) -> tuple[Path, ...]:
        return (
            self.root_cert,
            self.root_key,
            self.intermediate_cert,
            self.intermediate_key,
            self.signer_cert,
            self.signer_key,
            self.signer_chain,
            self.watermark_key,
        )

    def private_files(self) -> tuple[Path, ...]:
        return (self.root_key, self.intermediate_key, self.signer_key, self.watermark_key)


def _name(organisation: str, common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _issue(
    subject: x509.Name,
    key: ec.EllipticCurvePrivateKey,
    *,
    issuer: x509.Certificate | None,
    issuer_key: ec.EllipticCurvePrivateKey | None,
    ca: bool,
    path_length: int | None,
    days: int,
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=path_length), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.KeyUsage(
                digital_signature=not ca,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    )
    signing_key = issuer_key or key
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signing_key.public_key()),
            critical=False,
        )
    if not ca:  # C2PA only accepts signers with one of its allowed EKUs
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION, DOCUMENT_SIGNING_EKU]),
            critical=False,
        )
    return builder.sign(signing_key, hashes.SHA256())


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _write(path: Path, data: bytes, *, private: bool) -> None:
    """Write atomically; private files are created 0600 from the start (no umask window)."""
    tmp = path.with_name(path.name + ".tmp")
    mode = _PRIVATE_MODE if private else 0o644
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def init_provenance_keys(
    directory: str | os.PathLike[str],
    organisation: str = "Amparo",
    *,
    force: bool = False,
) -> ProvenanceKeyPaths:
    """Create the CA chain, the ES256 C2PA signer and a random watermark key in `directory`.

    Refuses (Conflict) when any of the files already exists, unless `force`.
    """
    organisation = organisation.strip()
    if not organisation or len(organisation) > 64:
        raise ConfigurationError("organisation must be 1-64 characters")
    paths = ProvenanceKeyPaths.in_directory(directory)
    existing = [p.name for p in paths.all_files() if p.exists()]
    if existing and not force:
        raise Conflict(
            f"provenance keys already exist in {paths.directory} ({', '.join(existing)}); "
            "use --force (force=True) to replace them; images signed with the old keys "
            "then verify only against the old root certificate"
        )
    paths.directory.mkdir(parents=True, exist_ok=True)
    root_key, inter_key, leaf_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    root = _issue(
        _name(organisation, f"{organisation} Provenance Root CA"),
        root_key,
        issuer=None,
        issuer_key=None,
        ca=True,
        path_length=1,
        days=ROOT_VALIDITY_DAYS,
    )
    inter = _issue(
        _name(organisation, f"{organisation} Provenance Intermediate CA"),
        inter_key,
        issuer=root,
        issuer_key=root_key,
        ca=True,
        path_length=0,
        days=INTERMEDIATE_VALIDITY_DAYS,
    )
    leaf = _issue(
        _name(organisation, f"{organisation} C2PA Signer"),
        leaf_key,
        issuer=inter,
        issuer_key=inter_key,
        ca=False,
        path_length=None,
        days=SIGNER_VALIDITY_DAYS,
    )
    _write(paths.root_cert, _pem(root), private=False)
    _write(paths.root_key, _key_pem(root_key), private=True)
    _write(paths.intermediate_cert, _pem(inter), private=False)
    _write(paths.intermediate_key, _key_pem(inter_key), private=True)
    _write(paths.signer_cert, _pem(leaf), private=False)
    _write(paths.signer_key, _key_pem(leaf_key), private=True)
    _write(paths.signer_chain, _pem(leaf) + _pem(inter), private=False)
    _write(paths.watermark_key, (WatermarkKey.generate().hex() + "\n").encode(), private=True)
    return paths


def load_provenance_keys(directory: str | os.PathLike[str]) -> ProvenanceKeyPaths:
    """The key paths in `directory`, checking that the files a signer needs are there."""
    paths = ProvenanceKeyPaths.in_directory(directory)
    missing = [p.name for p in (paths.signer_chain, paths.signer_key) if not p.is_file()]
    if missing:
        raise ConfigurationError(
            f"no provenance signer in {paths.directory} (missing {', '.join(missing)}); run `amparo provenance init`"
        )
    return paths


def load_watermark_key(
    directory: str | os.PathLike[str] | None = None, *, env: dict[str, str] | None = None
) -> WatermarkKey:
    """Key from $AMPARO_WATERMARK_KEY (hex) if set, else `directory`/watermark.key."""
    environ = os.environ if env is None else env
    value = environ.get(WATERMARK_KEY_ENV, "").strip()
    if value:
        return WatermarkKey.from_hex(value)
    if directory is None:
        raise ConfigurationError(f"no watermark key: set {WATERMARK_KEY_ENV} or run `amparo provenance init`")
    path = Path(directory) / WATERMARK_KEY_FILE
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(
            f"cannot read the watermark key {path}: set {WATERMARK_KEY_ENV} or run `amparo provenance init`"
        ) from exc
    return WatermarkKey.from_hex(text)


def read_root_pem(paths: ProvenanceKeyPaths) -> str:
    try:
        return paths.root_cert.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"cannot read the root certificate {paths.root_cert}") from exc


def provenance_dir(keys_dir: Path, *, env: dict[str, str] | None = None) -> Path:
    """The one provenance key directory: $AMPARO_PROVENANCE_DIR, else <data_dir>/keys/provenance.

    The proxy, `amparo provenance init|verify` and `amparo trace` all resolve it here, so a key
    made by one is the key the others read (never a second CA under the working directory)."""
    environ = os.environ if env is None else env
    value = environ.get(PROVENANCE_DIR_ENV, "").strip()
    return Path(value) if value else keys_dir / PROVENANCE_SUBDIR


def watermark_key_or_none(configured_hex: str | None, directory: Path) -> WatermarkKey | None:
    """The configured key (AMPARO_WATERMARK_KEY) if set, else `directory`/watermark.key, else None.

    A malformed key raises: silently reading with no key would report images as unmarked."""
    if configured_hex:
        return WatermarkKey.from_hex(configured_hex)
    path = directory / WATERMARK_KEY_FILE
    if not path.exists():
        return None
    return load_watermark_key(directory, env={})
