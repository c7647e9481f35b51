"""Signed records and log heads (Ed25519, with the `cryptography` package).

A content digest proves only that a record is the one *somebody* sealed:
anyone who edits a record can compute its digest again.  A signature proves
who sealed it: it is made with a private key and checked with the public key
the auditor trusts (``audit --trust KEY.pub``).

A signature is kept in a file beside what it signs (``<id>.json.sig``,
``LOG.head.sig``), so records stay byte-identical and their digests unchanged
whether they are signed or not.  It signs the record's id (the sha256 of its
content) or the canonical JSON of the log head.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

from infra_policy.engine.errors import InputError
from infra_policy.engine.files import OutputError, StagedFile, parse_json, read_bounded

SIGNATURE_FORMAT = "infra-policy/signature@1"
_KEY_BYTES = 10_000


class SigningKeyError(InputError):
    """A key file cannot be used."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def generate_keys(private_path: Path) -> Path:
    """Write a new Ed25519 private key (mode 0600) and its public key beside it (``.pub``); return the latter."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    private_path = Path(private_path)
    public_path = private_path.with_name(private_path.name + ".pub")
    for path in (private_path, public_path):
        if os.path.lexists(path):
            raise OutputError(f"{path}: already exists; infra-policy never overwrites a key. Choose another name.")
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    private = StagedFile(private_path, private_pem, mode=0o600)  # a private key is never the umask's to share
    public = StagedFile(public_path, public_pem)
    private.commit()
    public.commit()
    return public_path


def load_private_key(path: Path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    data = read_bounded(Path(path), _KEY_BYTES, SigningKeyError, "private key")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        key = None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(
            f"{path}: not an unencrypted Ed25519 private key in PEM; make one with `infra-policy keys generate KEY`."
        )
    return key


def load_public_key(path: Path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    data = read_bounded(Path(path), _KEY_BYTES, SigningKeyError, "public key")
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError):
        key = None
    if not isinstance(key, Ed25519PublicKey):
        raise SigningKeyError(
            f"{path}: not an Ed25519 public key in PEM (the KEY.pub that `infra-policy keys generate KEY` wrote)."
        )
    return key


def _raw_public(key) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def signature_for(private_key, signed: str) -> bytes:
    """The signature file's content for the text ``signed`` (a record id, or a log head's canonical JSON)."""
    document = {
        "format": SIGNATURE_FORMAT,
        "key": "ed25519:" + _b64(_raw_public(private_key.public_key())),
        "signed": signed,
        "signature": _b64(private_key.sign(signed.encode("utf-8"))),
    }
    return (json.dumps(document, sort_keys=True, indent=2) + "\n").encode("utf-8")


def check_signature(signature_file: Path, public_key, signed: str) -> tuple[bool, str]:
    """(ok, what was found) for the signature of ``signed`` in ``signature_file`` under the trusted key."""
    from cryptography.exceptions import InvalidSignature

    if not os.path.lexists(signature_file):
        return False, f"no signature file {signature_file.name}: the record is not signed"
    try:
        document = parse_json(
            read_bounded(signature_file, _KEY_BYTES, InputError, "signature file"),
            signature_file,
            InputError,
            "signature file",
        )
    except InputError as exc:
        return False, str(exc)
    if not isinstance(document, dict) or document.get("format") != SIGNATURE_FORMAT:
        return False, f"{signature_file.name} is not a signature file ({SIGNATURE_FORMAT})"
    if document.get("key") != "ed25519:" + _b64(_raw_public(public_key)):
        return False, f"{signature_file.name} was made with another key than the one trusted"
    if document.get("signed") != signed:
        return False, f"{signature_file.name} signs {document.get('signed')!r}, not {signed!r}: the content changed"
    try:
        public_key.verify(base64.b64decode(str(document.get("signature")), validate=True), signed.encode("utf-8"))
    except (InvalidSignature, ValueError):
        return False, f"{signature_file.name}: the signature does not verify under the trusted key"
    return True, f"signed by the trusted key ({document['key'][:20]}…)"
