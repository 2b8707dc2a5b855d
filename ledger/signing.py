"""The ledger's Ed25519 signing key: from the environment in production, generated once into
`var/` for development; and signing / checking checkpoint bytes with it."""

import base64
import binascii
import hashlib
import os
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from ledger.verifier import signed_bytes

__all__ = [
    "SigningKeyMissing",
    "checkpoint_signature_valid",
    "key_id",
    "public_key_b64",
    "public_key_pem",
    "sign_checkpoint",
    "signed_bytes",
    "signing_key",
]


class SigningKeyMissing(ImproperlyConfigured):
    """No key to sign with: production must be given LEDGER_SIGNING_KEY."""


@lru_cache(maxsize=8)
def _key_from_b64(text: str) -> Ed25519PrivateKey:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ImproperlyConfigured("LEDGER_SIGNING_KEY is not base64") from None
    if len(raw) != 32:
        raise ImproperlyConfigured(
            f"LEDGER_SIGNING_KEY must be 32 raw bytes (base64), got {len(raw)}"
        )
    return Ed25519PrivateKey.from_private_bytes(raw)


def _development_key(path: Path, *, create: bool) -> Ed25519PrivateKey | None:
    if not path.exists():
        if not create:
            return None
        path.parent.mkdir(parents=True, exist_ok=True)
        raw = Ed25519PrivateKey.generate().private_bytes_raw()
        try:
            # O_EXCL: two processes starting at once must not each write a different key.
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(descriptor, "w") as handle:
                handle.write(base64.b64encode(raw).decode("ascii") + "\n")
    return _key_from_b64(path.read_text().strip())


def signing_key(*, create: bool = True) -> Ed25519PrivateKey | None:
    """The configured key. With DEBUG and no LEDGER_SIGNING_KEY, the development key file is
    used (and made once when `create`); otherwise no key means refusing: SigningKeyMissing.
    `create=False` returns None instead of making or refusing (for read-only checks)."""
    configured = getattr(settings, "LEDGER_SIGNING_KEY", "")
    if configured:
        return _key_from_b64(configured)
    if settings.DEBUG:
        return _development_key(Path(settings.LEDGER_SIGNING_KEY_FILE), create=create)
    if not create:
        return None
    raise SigningKeyMissing(
        "LEDGER_SIGNING_KEY is not set: checkpoints are not signed without it in production"
    )


def _public_raw(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(public_raw: bytes) -> str:
    """A short name for a public key: the first 16 bytes of its SHA-256, hex."""
    return hashlib.sha256(public_raw).hexdigest()[:32]


def public_key_b64(key: Ed25519PrivateKey) -> str:
    return base64.b64encode(_public_raw(key)).decode("ascii")


def public_key_pem(key: Ed25519PrivateKey) -> str:
    return key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()


def sign_checkpoint(*, tree_size: int, root_hash: str, timestamp: str) -> dict:
    """Sign a tree head; the fields of a LedgerCheckpoint (verifier's checkpoint format)."""
    key = signing_key()
    public_raw = _public_raw(key)
    signature = key.sign(signed_bytes(tree_size, root_hash, timestamp))
    return {
        "tree_size": tree_size,
        "root_hash": root_hash,
        "timestamp": timestamp,
        "signature": base64.b64encode(signature).decode("ascii"),
        "public_key": base64.b64encode(public_raw).decode("ascii"),
        "key_id": key_id(public_raw),
    }


def checkpoint_signature_valid(
    *, tree_size: int, root_hash: str, timestamp: str, signature: str, public_key: bytes
) -> bool:
    try:
        raw_signature = base64.b64decode(signature, validate=True)
        Ed25519PublicKey.from_public_bytes(public_key).verify(
            raw_signature, signed_bytes(tree_size, root_hash, timestamp)
        )
    except (InvalidSignature, ValueError, binascii.Error):
        return False
    return True
