"""Standalone verifier for SCF Platform ledger exports against a signed Merkle checkpoint.

Usage: python verifier.py EXPORT.jsonl CHECKPOINT.json [--public-key KEY]

The log's public key must be trusted from outside the checkpoint: either ``--public-key KEY``, or
the pinned key file ``ledger-public-key.pem`` that ``manage.py ledger_export`` writes next to the
export (compare the key id it prints with the one the platform publishes, out of band). Without
either, or when the checkpoint was signed by any other key, verification fails: a checkpoint's
own ``public_key`` and ``key_id`` prove nothing about who signed it.

This file is meant to be handed to a bank and run with nothing but the Python standard library.
It deliberately imports nothing from the platform's ``ledger`` package and re-implements the few
primitives it needs (RFC 9162 leaf/node hashing, the Merkle tree hash and Ed25519 verification):
an auditor can read this one file end to end and trust no code of ours beyond it.

Export (JSON Lines): a header ``{"format": "scf-ledger-export/1", "tree_size": N}`` followed by
one ``{"index": i, "leaf": "<base64 canonical bytes>", "leaf_hash": "<hex>"}`` line per entry.
Checkpoint (JSON): ``tree_size``, ``root_hash`` (hex), ``timestamp`` (ISO 8601), ``signature``
(base64 Ed25519), ``public_key`` (base64, 32 raw bytes), ``key_id``. The signature covers the
canonical JSON (sorted keys, compact separators, UTF-8) of tree_size, root_hash and timestamp.

Exit status: 0 when everything verifies, 1 otherwise (one line per problem, then a summary).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import os
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

EXPORT_FORMAT = "scf-ledger-export/1"
# The platform's public key as PEM, written by `manage.py ledger_export` next to the export.
PINNED_KEY_FILE = "ledger-public-key.pem"

# ---------------------------------------------------------------------------------------------
# RFC 9162 section 2.1 Merkle tree hashing. Duplicated from ledger/merkle.py on purpose (see the
# module docstring): the verifier must not depend on the code whose output it is checking.
# ---------------------------------------------------------------------------------------------

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


class _Frontier:
    """Right edge of the tree: one perfect-subtree root per set bit of the size.

    Streaming the export through this keeps memory at O(log n) however long the log is.
    """

    def __init__(self) -> None:
        self.size = 0
        self._hashes: list[bytes] = []

    def append(self, leaf: bytes) -> None:
        node, size = leaf, self.size
        while size & 1:
            node = node_hash(self._hashes.pop(), node)
            size >>= 1
        self._hashes.append(node)
        self.size += 1

    def root(self) -> bytes:
        if not self._hashes:
            return EMPTY_ROOT
        acc = self._hashes[-1]
        for left in reversed(self._hashes[:-1]):
            acc = node_hash(left, acc)
        return acc


# ---------------------------------------------------------------------------------------------
# Ed25519 signature verification, after the reference implementation in RFC 8032 section 6.
# Pure Python big-integer arithmetic: slow (milliseconds per signature) and not constant time,
# neither of which matters for checking a public signature once. Using it instead of a crypto
# library keeps this file dependency-free.
# ---------------------------------------------------------------------------------------------

_P = 2**255 - 19
_Q = 2**252 + 27742317777372353535851937790883648493  # order of the base point
_D = -121665 * pow(121666, _P - 2, _P) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)

_Point = tuple[int, int, int, int]  # extended homogeneous coordinates (X, Y, Z, T)


def _inv(x: int) -> int:
    return pow(x, _P - 2, _P)


def _point_add(a: _Point, b: _Point) -> _Point:
    big_a = (a[1] - a[0]) * (b[1] - b[0]) % _P
    big_b = (a[1] + a[0]) * (b[1] + b[0]) % _P
    big_c = 2 * a[3] * b[3] * _D % _P
    big_d = 2 * a[2] * b[2] % _P
    e, f, g, h = big_b - big_a, big_d - big_c, big_d + big_c, big_b + big_a
    return (e * f % _P, g * h % _P, f * g % _P, e * h % _P)


def _point_mul(scalar: int, point: _Point) -> _Point:
    result: _Point = (0, 1, 1, 0)  # neutral element
    while scalar > 0:
        if scalar & 1:
            result = _point_add(result, point)
        point = _point_add(point, point)
        scalar >>= 1
    return result


def _point_equal(a: _Point, b: _Point) -> bool:
    # Compare in projective form: x1/z1 == x2/z2 and y1/z1 == y2/z2.
    return (a[0] * b[2] - b[0] * a[2]) % _P == 0 and (a[1] * b[2] - b[1] * a[2]) % _P == 0


def _recover_x(y: int, sign: int) -> int | None:
    if y >= _P:
        return None
    # Reduced mod p (the RFC's listing is not), so that x == 0 with sign 1 is rejected as
    # RFC 8032 section 5.1.3 step 4 requires.
    x2 = (y * y - 1) * _inv(_D * y * y + 1) % _P
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (_P + 3) // 8, _P)
    if (x * x - x2) % _P != 0:
        x = x * _SQRT_M1 % _P
    if (x * x - x2) % _P != 0:
        return None
    if (x & 1) != sign:
        x = _P - x
    return x


def _point_decompress(data: bytes) -> _Point | None:
    if len(data) != 32:
        return None
    y = int.from_bytes(data, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    x = _recover_x(y, sign)
    if x is None:
        return None
    return (x, y, 1, x * y % _P)


def _base_point() -> _Point:
    y = 4 * _inv(5) % _P
    x = _recover_x(y, 0)
    if x is None:  # pragma: no cover - a fixed property of the curve
        raise RuntimeError("Ed25519 base point does not decode")
    return (x, y, 1, x * y % _P)


_G = _base_point()


def ed25519_verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """RFC 8032 Ed25519 verification (cofactorless, as in the section 6 reference code)."""
    if not all(isinstance(x, bytes) for x in (public_key, message, signature)):
        return False
    if len(public_key) != 32 or len(signature) != 64:
        return False
    a = _point_decompress(public_key)
    if a is None:
        return False
    r_bytes = signature[:32]
    r = _point_decompress(r_bytes)
    if r is None:
        return False
    s = int.from_bytes(signature[32:], "little")
    # Refusing s >= q rules out the trivially malleable second encoding of each signature.
    if s >= _Q:
        return False
    h = int.from_bytes(hashlib.sha512(r_bytes + public_key + message).digest(), "little") % _Q
    return _point_equal(_point_mul(s, _G), _point_add(r, _point_mul(h, a)))


# ---------------------------------------------------------------------------------------------
# Parsing helpers. Strict on encodings so each value has exactly one accepted spelling.
# ---------------------------------------------------------------------------------------------

_HEX_HASH = re.compile(r"[0-9a-f]{64}")
# DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410), as PEM public keys carry it.
_ED25519_SPKI_PREFIX = bytes.fromhex("302a300506032b6570032100")


class _Invalid(Exception):
    """A field could not be decoded; the message says which and why."""


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _hex_hash(value: object, what: str) -> bytes:
    if not isinstance(value, str) or not _HEX_HASH.fullmatch(value):
        raise _Invalid(f"{what} is not 64 lowercase hex digits")
    return bytes.fromhex(value)


def _b64(value: object, what: str, length: int | None = None) -> bytes:
    if not isinstance(value, str):
        raise _Invalid(f"{what} is not a base64 string")
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise _Invalid(f"{what} is not valid base64 ({exc})") from None
    # b64decode ignores non-zero padding bits; re-encoding pins one spelling per value.
    if base64.b64encode(raw).decode("ascii") != value:
        raise _Invalid(f"{what} is not canonical base64")
    if length is not None and len(raw) != length:
        raise _Invalid(f"{what} must decode to {length} bytes, got {len(raw)}")
    return raw


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Parsers disagree on which of two equal keys wins; refuse the ambiguity outright.
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _json_object(text: str | bytes, what: str) -> dict[str, Any]:
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _Invalid(f"{what} is not UTF-8 ({exc})") from None
    try:
        value = json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except (ValueError, RecursionError) as exc:  # RecursionError: nested past the stack
        raise _Invalid(f"{what} is not valid JSON ({exc})") from None
    if not isinstance(value, dict):
        raise _Invalid(f"{what} is not a JSON object")
    return value


def _describe_range(first: int, last: int) -> str:
    return f"index {first}" if first == last else f"indexes {first}..{last}"


def key_fingerprint(public_raw: bytes) -> str:
    """The platform's key id of a public key: the first 16 bytes of its SHA-256, hex."""
    return hashlib.sha256(public_raw).hexdigest()[:32]


def parse_public_key(text: str) -> bytes:
    """Accept a raw Ed25519 key as base64 or hex, or a PEM SubjectPublicKeyInfo."""
    text = text.strip()
    if text.startswith("-----BEGIN PUBLIC KEY-----"):
        body = "".join(line for line in text.splitlines() if not line.startswith("-----"))
        try:
            der = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError(f"PEM body is not base64 ({exc})") from None
        if len(der) != 44 or not der.startswith(_ED25519_SPKI_PREFIX):
            raise ValueError("PEM key is not an Ed25519 public key")
        return der[len(_ED25519_SPKI_PREFIX) :]
    if re.fullmatch(r"[0-9a-fA-F]{64}", text):
        return bytes.fromhex(text)
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise ValueError("expected 32 raw bytes as base64 or hex, or a PEM public key")
    return raw


# ---------------------------------------------------------------------------------------------
# Verification.
# ---------------------------------------------------------------------------------------------


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    entries: int = 0
    checkpoint_size: int | None = None
    root_hash: str | None = None
    key_id: str | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        if self.ok:
            return (
                f"OK: {self.entries} entries intact; root {self.root_hash} of the first "
                f"{self.checkpoint_size} matches the checkpoint signed by key {self.key_id}"
            )
        count = len(self.problems)
        return f"FAILED: {count} problem{'s' if count != 1 else ''} found"


@dataclass
class _Checkpoint:
    tree_size: int
    root_hash: bytes


def signed_bytes(tree_size: int, root_hash: str, timestamp: str) -> bytes:
    """The exact bytes a checkpoint signature covers."""
    body = {"root_hash": root_hash, "timestamp": timestamp, "tree_size": tree_size}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8")


def _check_checkpoint(
    checkpoint: object, trusted_key: bytes | None, report: Report
) -> _Checkpoint | None:
    if isinstance(checkpoint, (str, bytes)):
        try:
            checkpoint = _json_object(checkpoint, "checkpoint")
        except _Invalid as exc:
            report.problems.append(str(exc))
            return None
    if not isinstance(checkpoint, dict):
        report.problems.append("checkpoint: not a JSON object")
        return None
    problems_before = len(report.problems)

    def bad(message: str) -> None:
        report.problems.append(f"checkpoint: {message}")

    tree_size = checkpoint.get("tree_size")
    if not _is_int(tree_size) or tree_size < 0:
        bad("tree_size is not a non-negative integer")
    root_text = checkpoint.get("root_hash")
    root: bytes | None = None
    try:
        root = _hex_hash(root_text, "root_hash")
    except _Invalid as exc:
        bad(str(exc))
    timestamp = checkpoint.get("timestamp")
    if not isinstance(timestamp, str):
        bad("timestamp is not a string")
    else:
        try:
            # Python before 3.11 does not read a trailing "Z".
            datetime.fromisoformat(re.sub(r"[Zz]$", "+00:00", timestamp))
        except ValueError:
            bad(f"timestamp {timestamp!r} is not ISO 8601")
    key_id = checkpoint.get("key_id")
    if not isinstance(key_id, str):
        bad("key_id is not a string")
    else:
        report.key_id = key_id
    signature = public_key = None
    try:
        signature = _b64(checkpoint.get("signature"), "signature", 64)
    except _Invalid as exc:
        bad(str(exc))
    try:
        public_key = _b64(checkpoint.get("public_key"), "public_key", 32)
    except _Invalid as exc:
        bad(str(exc))

    if trusted_key is None:
        bad(
            "no trusted public key: give --public-key KEY, or keep the platform's "
            f"{PINNED_KEY_FILE} next to the export (the key inside a checkpoint proves nothing "
            "about who signed it)"
        )
        verify_key = None
    else:
        trusted_id = key_fingerprint(trusted_key)
        if public_key is not None and public_key != trusted_key:
            bad(
                f"public_key differs from the trusted public key: the checkpoint carries key "
                f"{key_fingerprint(public_key)} (and claims key_id {key_id!r}), the trusted "
                f"key is {trusted_id}"
            )
        verify_key = trusted_key
        report.key_id = trusted_id

    if (
        len(report.problems) != problems_before
        or verify_key is None
        or signature is None
        or root is None
        or not _is_int(tree_size)
        or not isinstance(root_text, str)
        or not isinstance(timestamp, str)
    ):
        return None
    if not ed25519_verify(verify_key, signed_bytes(tree_size, root_text, timestamp), signature):
        bad("Ed25519 signature does not verify")
    return _Checkpoint(tree_size=tree_size, root_hash=root)


def _parse_header(line: str | bytes | None, report: Report) -> int | None:
    if line is None:
        report.problems.append("line 1: export is empty, expected a header line")
        return None
    try:
        header = _json_object(line, "header")
    except _Invalid as exc:
        report.problems.append(f"line 1: {exc}")
        return None
    if header.get("format") != EXPORT_FORMAT:
        report.problems.append(
            f"line 1: header format is {header.get('format')!r}, expected {EXPORT_FORMAT!r}"
        )
    size = header.get("tree_size")
    if not _is_int(size) or size < 0:
        report.problems.append("line 1: header tree_size is not a non-negative integer")
        return None
    return size


def _parse_entry(line: str | bytes) -> tuple[int, bytes, bytes]:
    entry = _json_object(line, "entry")
    index = entry.get("index")
    if not _is_int(index) or index < 0:
        raise _Invalid("index is not a non-negative integer")
    leaf = _b64(entry.get("leaf"), f"index {index}: leaf")
    stored = _hex_hash(entry.get("leaf_hash"), f"index {index}: leaf_hash")
    return index, leaf, stored


def verify(
    export_lines: Iterable[str | bytes], checkpoint: object, trusted_key: bytes | None = None
) -> Report:
    """Check an export, given as its lines, against a checkpoint (JSON text or parsed object).

    ``trusted_key`` is the log's public key as the caller obtained it out of band; without it
    nothing can be verified (a problem), since anyone can sign a checkpoint with a key of their
    own and copy the platform's key_id into it.
    """
    report = Report()
    cp = _check_checkpoint(checkpoint, trusted_key, report)
    if cp is not None:
        report.checkpoint_size = cp.tree_size

    lines = iter(export_lines)
    header_size = _parse_header(next(lines, None), report)

    frontier = _Frontier()
    root_at_checkpoint = EMPTY_ROOT if cp is not None and cp.tree_size == 0 else None
    unreadable_in_checkpoint: list[int] = []
    expected = 0  # the index the next line should carry
    position = 0  # entries read so far
    for lineno, raw in enumerate(lines, start=2):
        this_position = position
        position += 1
        try:
            index, leaf, stored = _parse_entry(raw)
        except _Invalid as exc:
            report.problems.append(f"line {lineno}: {exc}")
            if cp is not None and this_position < cp.tree_size:
                unreadable_in_checkpoint.append(lineno)
            expected += 1
            continue

        if index > expected:
            report.problems.append(
                f"{_describe_range(expected, index - 1)}: expected on line {lineno}, found "
                f"index {index} (entries deleted or reordered)"
            )
        elif index < expected:
            report.problems.append(
                f"index {index}: out of order or repeated on line {lineno}, after index "
                f"{expected - 1} (entries inserted or reordered)"
            )
        expected = max(expected, index + 1)

        computed = leaf_hash(leaf)
        if computed != stored:
            report.problems.append(
                f"index {index}: leaf_hash does not match the leaf bytes on line {lineno} "
                f"(stored {stored.hex()}, computed {computed.hex()})"
            )

        # The tree is rebuilt in file order from recomputed hashes, so neither a reordering
        # nor a forged leaf_hash column can produce the signed root.
        if cp is not None and this_position < cp.tree_size:
            frontier.append(computed)
            if frontier.size == cp.tree_size and not unreadable_in_checkpoint:
                root_at_checkpoint = frontier.root()
    report.entries = position

    if header_size is not None:
        if expected < header_size:
            report.problems.append(
                f"{_describe_range(expected, header_size - 1)}: missing at end of export"
            )
        if position != header_size:
            report.problems.append(
                f"export has {position} entries but its header says tree_size {header_size}"
            )

    if cp is not None:
        if cp.tree_size > position:
            report.problems.append(
                f"checkpoint covers {cp.tree_size} entries but the export holds only {position}"
            )
        elif unreadable_in_checkpoint:
            report.problems.append(
                "root not recomputed: unreadable entries on line(s) "
                + ", ".join(str(n) for n in unreadable_in_checkpoint[:10])
                + (" and more" if len(unreadable_in_checkpoint) > 10 else "")
            )
        elif root_at_checkpoint != cp.root_hash:
            computed_hex = root_at_checkpoint.hex() if root_at_checkpoint else "?"
            report.problems.append(
                f"root mismatch at tree_size {cp.tree_size}: checkpoint says "
                f"{cp.root_hash.hex()}, export gives {computed_hex}"
            )
        else:
            report.root_hash = cp.root_hash.hex()
            if cp.tree_size < position:
                report.notes.append(
                    f"checkpoint covers the first {cp.tree_size} of {position} entries; "
                    "the rest are not covered by any signature checked here"
                )
    return report


def verify_files(
    export_path: str | os.PathLike[str],
    checkpoint_path: str | os.PathLike[str],
    trusted_key: bytes | None = None,
) -> Report:
    try:
        with open(checkpoint_path, "rb") as handle:
            checkpoint = handle.read()
        # Binary lines: a stray non-UTF-8 byte then fails one line, not the whole read.
        with open(export_path, "rb") as handle:
            return verify(handle, checkpoint, trusted_key)
    except OSError as exc:
        report = Report()
        report.problems.append(f"cannot read {exc.filename}: {exc.strerror}")
        return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Verify an SCF Platform ledger export against a signed checkpoint."
    )
    parser.add_argument("export", help="ledger export, JSON Lines")
    parser.add_argument("checkpoint", help="signed checkpoint, JSON")
    parser.add_argument(
        "--public-key",
        metavar="KEY",
        help="the log's Ed25519 public key you obtained independently: base64 or hex of the "
        f"32 raw bytes, a PEM public key, or a file holding one of those; default: the pinned "
        f"{PINNED_KEY_FILE} next to the export",
    )
    args = parser.parse_args(argv)

    key_text, key_source = args.public_key, "--public-key"
    notes: list[str] = []
    if key_text is None:
        pinned = os.path.join(os.path.dirname(os.path.abspath(args.export)), PINNED_KEY_FILE)
        if os.path.isfile(pinned):
            key_text, key_source = pinned, pinned
    trusted_key = None
    if key_text is not None:
        try:
            if os.path.isfile(key_text):
                with open(key_text, encoding="utf-8") as handle:
                    key_text = handle.read()
            trusted_key = parse_public_key(key_text)
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            print(f"problem: {key_source}: {exc}")
            print("FAILED: 1 problem found")
            return 1
        if key_source != "--public-key":
            notes.append(
                f"trusting the pinned key in {key_source}, key id "
                f"{key_fingerprint(trusted_key)}: check that id against the platform's published "
                "key out of band"
            )

    report = verify_files(args.export, args.checkpoint, trusted_key)
    for note in notes + report.notes:
        print(f"note: {note}")
    for problem in report.problems:
        print(f"problem: {problem}")
    print(report.summary())
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
