"""The standalone export verifier: tamper detection, Ed25519 and the command line."""

from __future__ import annotations

import ast
import base64
import hashlib
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import verifier
from ledger.merkle import EMPTY_ROOT, MemoryTree, canonical_bytes, leaf_hash

ed25519 = pytest.importorskip("cryptography.hazmat.primitives.asymmetric.ed25519")
serialization = pytest.importorskip("cryptography.hazmat.primitives.serialization")

VERIFIER_PATH = Path(verifier.__file__)
N = 24
TIMESTAMP = "2025-06-30T08:15:00Z"
KEY_ID = "ledger-2025-01"

# A fixed seed keeps failures reproducible; nothing secret is protected by it.
PRIVATE_KEY = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
PUBLIC_RAW = PRIVATE_KEY.public_key().public_bytes(
    serialization.Encoding.Raw, serialization.PublicFormat.Raw
)


def _payload(i: int) -> dict:
    return {
        "event": "invoice.financed",
        "invoice": f"INV-{i:04d}",
        "amount": f"{1000 + 17 * i}.50",
        "currency": "CNY",
        "seq": i,
        "supplier": "苏州精密零件有限公司",
    }


def _compact(obj: object) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _entry_line(index: int, leaf: bytes, stored_hash: bytes | None = None) -> str:
    stored = leaf_hash(leaf) if stored_hash is None else stored_hash
    entry = {"index": index, "leaf": base64.b64encode(leaf).decode(), "leaf_hash": stored.hex()}
    return _compact(entry) + "\n"


def _header(size: int) -> str:
    return _compact({"format": "scf-ledger-export/1", "tree_size": size}) + "\n"


LEAF_BYTES = [canonical_bytes(_payload(i)) for i in range(N)]
TREE = MemoryTree(leaf_hash(b) for b in LEAF_BYTES)
EXPORT = [_header(N)] + [_entry_line(i, b) for i, b in enumerate(LEAF_BYTES)]


def _checkpoint(
    tree_size: int = N,
    root: bytes | None = None,
    timestamp: str = TIMESTAMP,
    key: ed25519.Ed25519PrivateKey = PRIVATE_KEY,
) -> dict:
    root_hex = (TREE.root(tree_size) if root is None else root).hex()
    # Built here rather than with verifier.signed_bytes so the two are checked against each other.
    signed = _compact({"tree_size": tree_size, "root_hash": root_hex, "timestamp": timestamp})
    public = key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return {
        "tree_size": tree_size,
        "root_hash": root_hex,
        "timestamp": timestamp,
        "signature": base64.b64encode(key.sign(signed.encode())).decode(),
        "public_key": base64.b64encode(public).decode(),
        "key_id": KEY_ID,
    }


CHECKPOINT = _checkpoint()


def _run(lines: list[str], checkpoint: dict | None = None, key: bytes | None = PUBLIC_RAW):
    return verifier.verify(lines, CHECKPOINT if checkpoint is None else checkpoint, key)


def _problems_text(report: verifier.Report) -> str:
    return "\n".join(report.problems)


# ---------------------------------------------------------------------------------------------
# The happy path.
# ---------------------------------------------------------------------------------------------


def test_untouched_export_passes():
    report = _run(EXPORT)
    assert report.ok, report.problems
    assert report.entries == N
    assert report.root_hash == TREE.root().hex()
    assert report.summary().startswith("OK: 24 entries intact")
    assert report.notes == []


def test_signed_bytes_are_canonical_json():
    assert (
        verifier.signed_bytes(3, "ab" * 32, TIMESTAMP)
        == (
            '{"root_hash":"' + "ab" * 32 + '","timestamp":"' + TIMESTAMP + '","tree_size":3}'
        ).encode()
    )


def test_without_a_trusted_key_nothing_verifies():
    # The key inside the checkpoint shows only that whoever made it had a key.
    report = _run(EXPORT, key=None)
    assert not report.ok
    assert any("no trusted public key" in problem for problem in report.problems)


def test_lines_may_be_bytes_or_crlf_terminated():
    assert _run([line.encode() for line in EXPORT]).ok
    assert _run([line.replace("\n", "\r\n") for line in EXPORT]).ok


# ---------------------------------------------------------------------------------------------
# Tampering with leaves.
# ---------------------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(data=st.data(), recompute_hash=st.booleans())
def test_flipping_any_byte_of_any_leaf_fails(data, recompute_hash):
    index = data.draw(st.integers(min_value=0, max_value=N - 1), label="index")
    leaf = bytearray(LEAF_BYTES[index])
    position = data.draw(st.integers(min_value=0, max_value=len(leaf) - 1), label="position")
    leaf[position] ^= data.draw(st.integers(min_value=1, max_value=255), label="mask")
    forged = bytes(leaf)
    lines = list(EXPORT)
    # Either leave the stored hash (caught per entry), or recompute it as a careful forger
    # would (caught only by the signed root).
    stored = leaf_hash(forged) if recompute_hash else leaf_hash(LEAF_BYTES[index])
    lines[index + 1] = _entry_line(index, forged, stored)

    report = _run(lines)
    assert not report.ok
    text = _problems_text(report)
    assert "root mismatch" in text
    if not recompute_hash:
        assert f"index {index}: leaf_hash does not match" in text


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_flipping_any_byte_inside_any_line_fails(data):
    # Every byte except the file's final newline: trailing whitespace after the last object
    # carries no data, so changing it is not tampering with anything signed.
    blob = bytearray("".join(EXPORT).encode())
    position = data.draw(st.integers(min_value=0, max_value=len(blob) - 2), label="position")
    blob[position] ^= data.draw(st.integers(min_value=1, max_value=255), label="mask")
    # Split the way the CLI reads the file: on b"\n" only.
    assert not _run(io.BytesIO(bytes(blob))).ok


def test_forged_leaf_hash_column_is_reported():
    lines = list(EXPORT)
    lines[4] = _entry_line(3, LEAF_BYTES[3], stored_hash=b"\x11" * 32)
    report = _run(lines)
    assert [p for p in report.problems if p.startswith("index 3: leaf_hash does not match")]
    # The tree is rebuilt from the leaves themselves, so the root still matches.
    assert "root mismatch" not in _problems_text(report)


# ---------------------------------------------------------------------------------------------
# Deleted, reordered and inserted lines.
# ---------------------------------------------------------------------------------------------


def test_deleted_line_is_named():
    lines = list(EXPORT)
    del lines[5 + 1]
    report = _run(lines)
    assert not report.ok
    text = _problems_text(report)
    assert "index 5: expected on line 7, found index 6" in text
    assert "export has 23 entries but its header says tree_size 24" in text


def test_deleted_last_line_is_named():
    report = _run(EXPORT[:-1])
    assert "index 23: missing at end of export" in _problems_text(report)


def test_reordered_pair_is_named():
    lines = list(EXPORT)
    lines[8], lines[9] = lines[9], lines[8]  # indexes 7 and 8
    report = _run(lines)
    assert not report.ok
    text = _problems_text(report)
    assert "index 7: expected on line 9, found index 8" in text
    assert "index 7: out of order or repeated on line 10" in text
    assert "root mismatch" in text


def test_inserted_line_is_named():
    forged = canonical_bytes({**_payload(3), "amount": "999999.00"})
    lines = list(EXPORT)
    lines.insert(4 + 1, _entry_line(3, forged))  # a second, self-consistent entry 3
    report = _run(lines)
    assert not report.ok
    text = _problems_text(report)
    assert "index 3: out of order or repeated on line 6" in text
    assert "export has 25 entries" in text


def test_inserted_line_with_renumbering_is_caught_by_the_root():
    forged = canonical_bytes({**_payload(3), "amount": "999999.00"})
    entries = [*LEAF_BYTES[:4], forged, *LEAF_BYTES[4:]]
    lines = [_header(N + 1)] + [_entry_line(i, b) for i, b in enumerate(entries)]
    report = _run(lines)
    assert [p for p in report.problems if p.startswith("root mismatch at tree_size 24")]


def test_a_gap_of_several_lines_is_one_problem():
    lines = EXPORT[:4] + EXPORT[10:]
    report = _run(lines)
    assert "indexes 3..8: expected on line 5, found index 9" in _problems_text(report)


# ---------------------------------------------------------------------------------------------
# The checkpoint.
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("root_hash", TREE.root(N - 1).hex()),
        ("tree_size", N - 1),
        ("timestamp", "2025-06-30T08:15:01Z"),
    ],
)
def test_changing_a_signed_checkpoint_field_breaks_the_signature(field, value):
    report = _run(EXPORT, {**CHECKPOINT, field: value})
    assert "checkpoint: Ed25519 signature does not verify" in report.problems


def test_checkpoint_signed_by_another_key_fails_against_the_pinned_key():
    other = ed25519.Ed25519PrivateKey.from_private_bytes(b"\x07" * 32)
    report = _run(EXPORT, _checkpoint(key=other))
    text = _problems_text(report)
    assert "public_key differs from the trusted public key" in text
    # Without a pinned key the impostor's checkpoint is self-consistent, and still refused.
    unpinned = _run(EXPORT, _checkpoint(key=other), key=None)
    assert not unpinned.ok
    assert "no trusted public key" in _problems_text(unpinned)


def _forged_checkpoint() -> dict:
    """An impostor's checkpoint: the right root and the platform's key_id, its own key."""
    other = ed25519.Ed25519PrivateKey.from_private_bytes(b"\x07" * 32)
    forged = _checkpoint(key=other)
    assert forged["key_id"] == CHECKPOINT["key_id"]
    assert forged["root_hash"] == CHECKPOINT["root_hash"]
    return forged


def _pin(directory: Path) -> Path:
    pinned = directory / verifier.PINNED_KEY_FILE
    pinned.write_bytes(
        PRIVATE_KEY.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return pinned


def test_forged_checkpoint_copying_the_key_id_fails_on_the_command_line(tmp_path, capsys):
    export, cp = _write(tmp_path, EXPORT, _forged_checkpoint())
    # No key at all: refused, not "OK" with a note.
    assert verifier.main([str(export), str(cp)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert "problem: checkpoint: no trusted public key" in "\n".join(out)
    assert out[-1].startswith("FAILED: ")
    # The pinned key file next to the export is the trusted key: the impostor is named.
    _pin(tmp_path)
    assert verifier.main([str(export), str(cp)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert any(
        line.startswith("problem: checkpoint: ")
        and "public_key differs from the trusted public key" in line
        for line in out
    ), out
    assert out[-1].startswith("FAILED: ")
    # So is a key given as an argument.
    key_b64 = base64.b64encode(PUBLIC_RAW).decode()
    assert verifier.main([str(export), str(cp), "--public-key", key_b64]) == 1
    capsys.readouterr()


def test_the_pinned_key_file_verifies_the_genuine_checkpoint(tmp_path, capsys):
    export, cp = _write(tmp_path, EXPORT, CHECKPOINT)
    pinned = _pin(tmp_path)
    assert verifier.main([str(export), str(cp)]) == 0
    out = capsys.readouterr().out.splitlines()
    fingerprint = hashlib.sha256(PUBLIC_RAW).hexdigest()[:32]
    assert out[0] == (
        f"note: trusting the pinned key in {pinned}, key id {fingerprint}: check that id "
        "against the platform's published key out of band"
    )
    assert out[-1].startswith("OK: 24 entries intact") and out[-1].endswith(fingerprint)
    pinned.write_text("not a key")
    assert verifier.main([str(export), str(cp)]) == 1
    assert capsys.readouterr().out.startswith(f"problem: {pinned}: ")


def test_signed_checkpoint_with_wrong_root_is_a_root_mismatch():
    report = _run(EXPORT, _checkpoint(root=b"\x42" * 32))
    assert "root mismatch at tree_size 24: checkpoint says " + "42" * 32 in (_problems_text(report))


def test_checkpoint_for_a_prefix_passes_with_a_note():
    report = _run(EXPORT, _checkpoint(tree_size=10))
    assert report.ok, report.problems
    assert any("first 10 of 24" in note for note in report.notes)
    empty = _run(EXPORT, _checkpoint(tree_size=0, root=EMPTY_ROOT))
    assert empty.ok, empty.problems


def test_checkpoint_beyond_the_export_fails():
    report = _run(EXPORT[:11], _checkpoint())
    assert "checkpoint covers 24 entries but the export holds only 10" in report.problems


@pytest.mark.parametrize(
    "change",
    [
        {"tree_size": "24"},
        {"tree_size": True},
        {"root_hash": TREE.root().hex().upper()},
        {"timestamp": "yesterday"},
        {"signature": "not base64!"},
        {"public_key": base64.b64encode(b"short").decode()},
        {"key_id": None},
    ],
)
def test_malformed_checkpoint_fields_are_problems(change):
    report = _run(EXPORT, {**CHECKPOINT, **change})
    assert not report.ok
    assert any(p.startswith("checkpoint: ") for p in report.problems)


@pytest.mark.parametrize("checkpoint", [[], "not json", b"\xff\xfe", 42])
def test_checkpoint_that_is_not_an_object(checkpoint):
    assert not verifier.verify(EXPORT, checkpoint, PUBLIC_RAW).ok


def test_checkpoint_may_be_given_as_json_text():
    assert verifier.verify(EXPORT, json.dumps(CHECKPOINT), PUBLIC_RAW).ok


def test_header_problems():
    assert not _run([]).ok
    assert not _run([_compact({"format": "other/1", "tree_size": N}) + "\n", *EXPORT[1:]]).ok
    report = _run([_header(N + 2), *EXPORT[1:]])
    assert "indexes 24..25: missing at end of export" in report.problems


@settings(max_examples=100, deadline=None)
@given(
    junk=st.lists(st.one_of(st.text(max_size=60), st.binary(max_size=60)), max_size=4),
    where=st.integers(min_value=0, max_value=N + 1),
)
def test_garbage_lines_are_reported_not_raised(junk, where):
    lines: list[str | bytes] = list(EXPORT)
    lines[where:where] = junk
    report = _run(lines)
    assert report.ok == (not junk)


def test_json_nested_past_the_stack_is_a_problem_not_a_crash():
    deep = "[" * 100_000 + "]" * 100_000 + "\n"
    report = _run([*EXPORT[:3], deep, *EXPORT[3:]])
    assert not report.ok
    assert any(p.startswith("line 4: entry is not valid JSON") for p in report.problems)
    assert not _run(EXPORT, deep).ok


def test_duplicate_json_keys_are_refused():
    lines = list(EXPORT)
    lines[1] = lines[1].replace('{"index":0,', '{"index":0,"index":0,')
    assert "line 2: entry is not valid JSON (duplicate key 'index')" in _run(lines).problems


def test_non_canonical_base64_and_hex_are_refused():
    lines = list(EXPORT)
    entry = json.loads(lines[1])
    entry["leaf_hash"] = entry["leaf_hash"].upper()
    lines[1] = json.dumps(entry) + "\n"
    assert "not 64 lowercase hex digits" in _problems_text(_run(lines))

    # "QQ==" and "QR==" both decode to b"A"; only the first is canonical.
    assert base64.b64decode("QR==") == b"A"
    lines = [_header(1), _compact({"index": 0, "leaf": "QR==", "leaf_hash": "00" * 32}) + "\n"]
    report = _run(lines, _checkpoint(tree_size=0, root=EMPTY_ROOT))
    assert "not canonical base64" in _problems_text(report)


# ---------------------------------------------------------------------------------------------
# Pure-Python Ed25519.
# ---------------------------------------------------------------------------------------------

# RFC 8032 section 7.1, TEST 1 to TEST 3.
RFC8032_VECTORS = [
    (
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e3970"
        "1cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ),
    (
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613"
        "d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ),
    (
        "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
        "af82",
        "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760"
        "984dc6594a7c15e9716ed28dc027beceea1ec40a",
    ),
]


@pytest.mark.parametrize(("public", "message", "signature"), RFC8032_VECTORS)
def test_ed25519_rfc8032_vectors(public, message, signature):
    pub, msg, sig = bytes.fromhex(public), bytes.fromhex(message), bytes.fromhex(signature)
    assert verifier.ed25519_verify(pub, msg, sig)
    assert not verifier.ed25519_verify(pub, msg + b"\x00", sig)


def test_ed25519_accepts_cryptography_signatures_and_rejects_tampering():
    message = verifier.signed_bytes(N, TREE.root().hex(), TIMESTAMP)
    signature = PRIVATE_KEY.sign(message)
    assert verifier.ed25519_verify(PUBLIC_RAW, message, signature)
    for i in range(len(signature)):
        bad = bytearray(signature)
        bad[i] ^= 1 << (i % 8)
        assert not verifier.ed25519_verify(PUBLIC_RAW, message, bytes(bad)), i
    for i in (0, len(message) // 2, len(message) - 1):
        bad = bytearray(message)
        bad[i] ^= 0x01
        assert not verifier.ed25519_verify(PUBLIC_RAW, bytes(bad), signature)
    bad_key = bytearray(PUBLIC_RAW)
    bad_key[0] ^= 0x01
    assert not verifier.ed25519_verify(bytes(bad_key), message, signature)


@settings(max_examples=25, deadline=None)
@given(message=st.binary(max_size=200), seed=st.binary(min_size=32, max_size=32))
def test_ed25519_interoperates_with_cryptography(message, seed):
    key = ed25519.Ed25519PrivateKey.from_private_bytes(seed)
    public = key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    assert verifier.ed25519_verify(public, message, key.sign(message))


def test_ed25519_rejects_malformed_input_without_raising():
    message = b"m"
    signature = PRIVATE_KEY.sign(message)
    q = 2**252 + 27742317777372353535851937790883648493
    s = int.from_bytes(signature[32:], "little")
    malleated = signature[:32] + (s + q).to_bytes(32, "little")
    assert not verifier.ed25519_verify(PUBLIC_RAW, message, malleated)
    assert not verifier.ed25519_verify(PUBLIC_RAW, message, signature[:63])
    assert not verifier.ed25519_verify(PUBLIC_RAW[:31], message, signature)
    assert not verifier.ed25519_verify(PUBLIC_RAW, message, b"\x00" * 64)
    assert not verifier.ed25519_verify(b"\xff" * 32, message, signature)  # y >= p
    assert not verifier.ed25519_verify(PUBLIC_RAW, "m", signature)  # type: ignore[arg-type]
    assert not verifier.ed25519_verify(None, message, signature)  # type: ignore[arg-type]
    # x = 0 with the sign bit set is a non-canonical encoding RFC 8032 5.1.3 rejects.
    non_canonical_identity = (1 | (1 << 255)).to_bytes(32, "little")
    assert not verifier.ed25519_verify(non_canonical_identity, message, signature)


# ---------------------------------------------------------------------------------------------
# Command line and standalone use.
# ---------------------------------------------------------------------------------------------


def _write(tmp_path: Path, lines: list[str], checkpoint: dict) -> tuple[Path, Path]:
    export = tmp_path / "export.jsonl"
    export.write_text("".join(lines), encoding="utf-8")
    cp = tmp_path / "checkpoint.json"
    cp.write_text(json.dumps(checkpoint, indent=2), encoding="utf-8")
    return export, cp


def test_main_exit_codes_and_output(tmp_path, capsys):
    export, cp = _write(tmp_path, EXPORT, CHECKPOINT)
    key_b64 = base64.b64encode(PUBLIC_RAW).decode()
    assert verifier.main([str(export), str(cp), "--public-key", key_b64]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [out[-1]] and out[-1].startswith("OK: 24 entries intact")

    lines = list(EXPORT)
    del lines[3]
    export, cp = _write(tmp_path, lines, CHECKPOINT)
    assert verifier.main([str(export), str(cp), "--public-key", PUBLIC_RAW.hex()]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[-1].startswith("FAILED: ")
    assert all(line.startswith("problem: ") for line in out[:-1])
    assert any("index 2" in line for line in out)


def test_main_reads_a_pem_key_file_and_reports_unreadable_files(tmp_path, capsys):
    export, cp = _write(tmp_path, EXPORT, CHECKPOINT)
    pem = tmp_path / "log.pub"
    pem.write_bytes(
        PRIVATE_KEY.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    assert verifier.main([str(export), str(cp), "--public-key", str(pem)]) == 0
    assert verifier.main([str(export), str(cp), "--public-key", "nonsense"]) == 1
    assert verifier.main([str(tmp_path / "missing.jsonl"), str(cp)]) == 1
    assert "cannot read" in capsys.readouterr().out


def test_runs_standalone_with_only_the_standard_library(tmp_path):
    # Copied away from the package and run with -I -S: no project code, no site-packages.
    script = tmp_path / "verifier.py"
    shutil.copy(VERIFIER_PATH, script)
    export, cp = _write(tmp_path, EXPORT, CHECKPOINT)
    key = base64.b64encode(PUBLIC_RAW).decode()
    command = [sys.executable, "-I", "-S", str(script), str(export), str(cp), "--public-key", key]
    ok = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, check=False)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout.startswith("OK: ")

    lines = list(EXPORT)
    lines[2], lines[3] = lines[3], lines[2]
    _write(tmp_path, lines, CHECKPOINT)
    bad = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, check=False)
    assert bad.returncode == 1
    assert "index 1" in bad.stdout and bad.stdout.splitlines()[-1].startswith("FAILED: ")


def test_verifier_imports_only_the_standard_library():
    tree = ast.parse(VERIFIER_PATH.read_text(encoding="utf-8"))
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "relative import in the standalone verifier"
            imported.add((node.module or "").split(".")[0])
    assert imported - set(sys.stdlib_module_names) - {"__future__"} == set()


def test_verifier_hashes_agree_with_ledger_merkle():
    for data in (b"", b"\x00", "供应链".encode()):
        assert verifier.leaf_hash(data) == leaf_hash(data)
    assert (
        verifier.node_hash(b"a" * 32, b"b" * 32)
        == hashlib.sha256(b"\x01" + b"a" * 32 + b"b" * 32).digest()
    )
    assert verifier.EMPTY_ROOT == EMPTY_ROOT
