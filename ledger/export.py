"""Writing the ledger out for the standalone verifier (`ledger/verifier.py`): JSON Lines, a
header and one line per entry, exactly as stored (a tampered row is exported as it is)."""

import base64
import json
from typing import TextIO

from ledger.models import LedgerEntry
from ledger.verifier import EXPORT_FORMAT

CHUNK = 2000


def ledger_export(out: TextIO, *, tree_size: int, chunk: int = CHUNK) -> int:
    """Write the entries with index below `tree_size`; returns how many were written. Needs the
    platform scope, as it reads every entry."""
    out.write(json.dumps({"format": EXPORT_FORMAT, "tree_size": tree_size}) + "\n")
    written, last = 0, -1
    while True:
        rows = list(
            LedgerEntry.objects.filter(index__gt=last, index__lt=tree_size)
            .order_by("index")
            .values_list("index", "leaf", "leaf_hash")[:chunk]
        )
        if not rows:
            return written
        for index, leaf, digest in rows:
            line = {
                "index": index,
                "leaf": base64.b64encode(bytes(leaf)).decode("ascii"),
                "leaf_hash": bytes(digest).hex(),
            }
            out.write(json.dumps(line, separators=(",", ":")) + "\n")
        written += len(rows)
        last = rows[-1][0]
