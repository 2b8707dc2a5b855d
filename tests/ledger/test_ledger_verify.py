"""Tampering, as only the database owner could do it (triggers disabled first): `ledger_verify`
names every changed, deleted, reordered or inserted row by its index; the standalone verifier
fails on an export of a tampered ledger and passes an untouched one."""

import base64
import hashlib
import json
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import CommandError, call_command
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ledger.verification import ledger_verify
from scf_platform.tenancy import Scope, scope_activated
from tests.ledger.conftest import append_events

VERIFIER = Path(__file__).resolve().parents[2] / "ledger" / "verifier.py"

pytestmark = pytest.mark.django_db(transaction=True)


def verify_command() -> tuple[bool, str]:
    """Run `manage.py ledger_verify`: (passed, everything it printed)."""
    out = StringIO()
    try:
        call_command("ledger_verify", stdout=out)
    except CommandError as error:
        return False, out.getvalue() + str(error)
    return True, out.getvalue()


def leaf_of(owner, index: int) -> bytes:
    return bytes(
        owner.execute("SELECT leaf FROM ledger_ledgerentry WHERE index = %s", [index])[0][0]
    )


def set_leaf(owner, index: int, leaf: bytes, *, rehash: bool = False) -> None:
    owner.execute("UPDATE ledger_ledgerentry SET leaf = %s WHERE index = %s", [leaf, index])
    if rehash:
        digest = hashlib.sha256(b"\x00" + leaf).digest()
        owner.execute(
            "UPDATE ledger_ledgerentry SET leaf_hash = %s WHERE index = %s", [digest, index]
        )


def problem_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("problem:")]


def index_line(output: str, index: int) -> str:
    return next(
        line for line in problem_lines(output) if line.startswith(f"problem: index {index}:")
    )


def test_an_untouched_ledger_verifies(committed_ledger):
    passed, output = verify_command()
    assert passed, output
    assert "OK: " in output
    assert f"{len(committed_ledger['sizes'])} checkpoints verified" in output


def test_a_changed_amount_is_reported_with_its_index(committed_ledger, owner):
    index = 30
    leaf = leaf_of(owner, index)
    forged = leaf.replace(b'"amount":"', b'"amount":"9', 1)
    assert forged != leaf
    with owner.triggers_disabled():
        set_leaf(owner, index, forged)
    passed, output = verify_command()
    assert not passed
    lines = problem_lines(output)
    assert lines[0].startswith(f"problem: index {index}: changed")
    assert "do not hash to its stored leaf hash" in lines[0]
    assert any("checkpoint" in line and "another root" in line for line in lines)


def test_a_change_with_its_leaf_hash_recomputed_is_still_caught(committed_ledger, owner):
    index = 7
    leaf = json.loads(leaf_of(owner, index))
    leaf["payload"]["amount"] = "1.00"
    forged = json.dumps(leaf, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    with owner.triggers_disabled():
        set_leaf(owner, index, forged, rehash=True)
    passed, output = verify_command()
    assert not passed
    assert f"problem: index {index}: changed: its leaf hash differs in the node cache" in output
    assert "another root" in output


def test_a_deleted_row_is_reported_with_its_index(committed_ledger, owner):
    index = 12
    with owner.triggers_disabled():
        owner.execute("DELETE FROM ledger_ledgerentryparty WHERE entry_id = %s", [index])
        owner.execute("DELETE FROM ledger_ledgerentry WHERE index = %s", [index])
    passed, output = verify_command()
    assert not passed
    assert f"problem: index {index}: deleted" in output


def test_the_last_row_deleted_is_reported_too(committed_ledger, owner):
    last = committed_ledger["sizes"][-1] - 1
    with owner.triggers_disabled():
        owner.execute("DELETE FROM ledger_ledgerentryparty WHERE entry_id = %s", [last])
        owner.execute("DELETE FROM ledger_ledgerentry WHERE index = %s", [last])
    passed, output = verify_command()
    assert not passed
    assert f"problem: index {last}: deleted" in output


def test_two_swapped_rows_are_both_reported(committed_ledger, owner):
    i, j = 9, 25
    columns = "kind, subject, leaf, leaf_hash, created_at"
    row_i = owner.execute(f"SELECT {columns} FROM ledger_ledgerentry WHERE index = %s", [i])[0]
    row_j = owner.execute(f"SELECT {columns} FROM ledger_ledgerentry WHERE index = %s", [j])[0]
    update = (
        "UPDATE ledger_ledgerentry SET kind = %s, subject = %s, leaf = %s, leaf_hash = %s,"
        " created_at = %s WHERE index = %s"
    )
    with owner.triggers_disabled():
        owner.execute(update, [*row_j, i])
        owner.execute(update, [*row_i, j])
    passed, output = verify_command()
    assert not passed
    assert f"problem: index {i}: reordered: holds the leaf written for index {j}" in output
    assert f"problem: index {j}: reordered: holds the leaf written for index {i}" in output


def test_a_row_added_after_the_head_is_reported_as_inserted(committed_ledger, owner):
    size = committed_ledger["sizes"][-1]
    with owner.triggers_disabled():
        owner.execute(
            "INSERT INTO ledger_ledgerentry (index, kind, subject, leaf, leaf_hash, created_at)"
            " SELECT %s, kind, subject, leaf, leaf_hash, created_at FROM ledger_ledgerentry"
            " WHERE index = 3",
            [size],
        )
    passed, output = verify_command()
    assert not passed
    line = index_line(output, size)
    assert f"inserted: the tree head counts only {size} entries" in line
    assert "reordered: holds the leaf written for index 3" in line


def test_a_row_inserted_in_the_middle_is_reported_from_its_index_on(committed_ledger, owner):
    at, size = 20, committed_ledger["sizes"][-1]
    shift = 10**9  # renumber through a free range: the primary key is checked row by row
    with owner.triggers_disabled(), owner.transaction():
        # Make room by renumbering every later row (and its party rows) one up, then fill it.
        for table, column in (
            ("ledger_ledgerentry", "index"),
            ("ledger_ledgerentryparty", "entry_id"),
        ):
            owner.execute(
                f"UPDATE {table} SET {column} = {column} + %s WHERE {column} >= %s", [shift, at]
            )
            owner.execute(
                f"UPDATE {table} SET {column} = {column} - %s + 1 WHERE {column} >= %s",
                [shift, shift],
            )
        owner.execute(
            "INSERT INTO ledger_ledgerentry (index, kind, subject, leaf, leaf_hash, created_at)"
            " SELECT %s, kind, subject, leaf, leaf_hash, created_at FROM ledger_ledgerentry"
            " WHERE index = 2",
            [at],
        )
    passed, output = verify_command()
    assert not passed
    assert f"problem: index {at}: reordered: holds the leaf written for index 2" in output
    assert f"problem: index {at + 1}: reordered: holds the leaf written for index {at}" in output
    line = index_line(output, size)
    assert f"reordered: holds the leaf written for index {size - 1}" in line
    assert "inserted" in line


def test_a_party_added_to_an_entry_is_reported(committed_ledger, owner):
    outsider = committed_ledger["chain"].bank.pk
    index = 40
    with owner.triggers_disabled():
        owner.execute(
            "INSERT INTO ledger_ledgerentryparty (entry_id, organization_id) VALUES (%s, %s)",
            [index, outsider],
        )
    passed, output = verify_command()
    assert not passed
    assert f"problem: index {index}: changed: its party rows" in output


def test_a_forged_checkpoint_is_reported(committed_ledger, owner):
    with owner.triggers_disabled():
        owner.execute(
            "UPDATE ledger_ledgercheckpoint SET root_hash = %s WHERE tree_size = %s",
            ["ab" * 32, committed_ledger["sizes"][2]],
        )
    passed, output = verify_command()
    assert not passed
    assert "the signature does not verify" in output


def test_a_tampered_node_cache_is_reported(committed_ledger, owner):
    # Level 2 over leaves 8..11: in-order key 2 * 8 + 4 - 1.
    with owner.triggers_disabled():
        owner.execute("UPDATE ledger_ledgernode SET hash = %s WHERE id = 19", [b"\x11" * 32])
    passed, output = verify_command()
    assert not passed
    assert "indexes 8..11: their subtree root differs in the node cache" in output


def _export(tmp_path: Path) -> tuple[Path, Path]:
    export, checkpoint = tmp_path / "ledger.jsonl", tmp_path / "checkpoint.json"
    call_command("ledger_export", str(export), "--checkpoint", str(checkpoint))
    return export, checkpoint


def _standalone(export: Path, checkpoint: Path, *extra: str) -> subprocess.CompletedProcess:
    # Run as a bank would: the one file, with no platform code importable (-I, another cwd).
    return subprocess.run(  # noqa: S603
        [sys.executable, "-I", str(VERIFIER), str(export), str(checkpoint), *extra],
        cwd=export.parent,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_an_export_verifies_with_the_standalone_verifier(committed_ledger, tmp_path):
    export, checkpoint = _export(tmp_path)
    header = json.loads(export.read_text().splitlines()[0])
    assert header == {"format": "scf-ledger-export/1", "tree_size": committed_ledger["sizes"][-1]}
    public_key = json.loads(checkpoint.read_text())["public_key"]
    result = _standalone(export, checkpoint, "--public-key", public_key)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().startswith("OK: ")


def test_an_export_of_a_tampered_ledger_fails_the_standalone_verifier(
    committed_ledger, owner, tmp_path
):
    index = 5
    leaf = leaf_of(owner, index)
    with owner.triggers_disabled():
        set_leaf(owner, index, leaf[:-2] + b" }", rehash=False)
    export, checkpoint = _export(tmp_path)
    result = _standalone(export, checkpoint)
    assert result.returncode == 1
    assert f"index {index}: leaf_hash does not match the leaf bytes" in result.stdout
    assert "root mismatch" in result.stdout


def test_a_forged_checkpoint_copying_the_key_id_fails_the_standalone_verifier(
    committed_ledger, tmp_path
):
    export, checkpoint = _export(tmp_path)
    pinned = tmp_path / "ledger-public-key.pem"
    # The platform pins its own key next to the export: the genuine checkpoint verifies with it.
    genuine = _standalone(export, checkpoint)
    assert genuine.returncode == 0, genuine.stdout + genuine.stderr
    assert f"note: trusting the pinned key in {pinned}" in genuine.stdout
    # An impostor signs the same tree head with its own key and copies the platform's key_id.
    signed = json.loads(checkpoint.read_text())
    impostor = Ed25519PrivateKey.from_private_bytes(b"\x07" * 32)
    body = {k: signed[k] for k in ("root_hash", "timestamp", "tree_size")}
    message = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    forged = {
        **signed,
        "signature": base64.b64encode(impostor.sign(message)).decode(),
        "public_key": base64.b64encode(impostor.public_key().public_bytes_raw()).decode(),
    }
    checkpoint.write_text(json.dumps(forged))
    result = _standalone(export, checkpoint)
    assert result.returncode == 1, result.stdout
    assert "problem: checkpoint: " in result.stdout
    assert "public_key differs from the trusted public key" in result.stdout
    assert result.stdout.splitlines()[-1].startswith("FAILED: ")
    # Without the pinned file and without --public-key, nothing is trusted: still a failure.
    pinned.unlink()
    unpinned = _standalone(export, checkpoint)
    assert unpinned.returncode == 1
    assert "problem: checkpoint: no trusted public key" in unpinned.stdout


def test_the_export_stops_at_the_latest_checkpoint(committed_ledger, tmp_path):
    with scope_activated(Scope.platform()):
        append_events(3, [committed_ledger["others"][0].pk])
    export, checkpoint = _export(tmp_path)
    assert len(export.read_text().splitlines()) == 1 + committed_ledger["sizes"][-1]
    assert _standalone(export, checkpoint).returncode == 0


def test_export_without_a_checkpoint_says_so(transactional_db, tmp_path):
    with pytest.raises(CommandError, match="No checkpoint yet"):
        call_command("ledger_export", str(tmp_path / "x.jsonl"))


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_flipping_any_byte_of_any_stored_entry_fails_verification(committed_ledger, owner, data):
    size = committed_ledger["sizes"][-1]
    index = data.draw(st.integers(0, size - 1), label="index")
    column = data.draw(st.sampled_from(["leaf", "leaf_hash", "kind", "subject"]), label="column")
    value = owner.execute(f"SELECT {column} FROM ledger_ledgerentry WHERE index = %s", [index])[0][
        0
    ]
    text = isinstance(value, str)
    stored = value.encode() if text else bytes(value)
    position = data.draw(st.integers(0, len(stored) - 1), label="position")
    mask = data.draw(st.integers(1, 255), label="mask")
    flipped = bytearray(stored)
    flipped[position] ^= mask
    forged: str | bytes = bytes(flipped)
    if text:
        # A text column only holds valid UTF-8 without NUL; other flips cannot be stored at all.
        try:
            forged = bytes(flipped).decode()
        except UnicodeDecodeError:
            forged = ""
        assume(forged and "\x00" not in forged)
    update = f"UPDATE ledger_ledgerentry SET {column} = %s WHERE index = %s"
    with owner.triggers_disabled():
        owner.execute(update, [forged, index])
        try:
            with scope_activated(Scope.platform()):
                report = ledger_verify()
        finally:
            owner.execute(update, [value if text else stored, index])
    assert not report.ok
    assert index in report.bad_indexes
    with scope_activated(Scope.platform()):
        assert ledger_verify().ok
