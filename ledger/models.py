"""The ledger's tables: entries (content, parties only), the tree's hashes (anyone), its head,
and signed checkpoints.

Visibility is split by table, not by query: an entry's content (`LedgerEntry`, and who its
parties are, `LedgerEntryParty`) is tenant data under row-level security, while the hashes a
proof is made of (`LedgerNode`), the head and the checkpoints hold nothing but hashes and sizes
and carry no policy at all. Serving a proof to a non-party therefore never needs a wider scope.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from scf_platform.models import Organization, TenantModel, TenantQuerySet

_ENTRY_VISIBLE_SQL = (
    "EXISTS (SELECT 1 FROM ledger_ledgerentryparty p"
    ' WHERE p.entry_id = ledger_ledgerentry."index"'
    " AND p.organization_id = (select scf_current_organization()))"
)


class LedgerEntryQuerySet(TenantQuerySet):
    def visible_to(self, organization: Organization | None) -> "LedgerEntryQuerySet":
        # Parties are rows of LedgerEntryParty (one per organization), not foreign keys here.
        if organization is None:
            return self.none()
        return self.filter(parties__organization=organization)


class LedgerEntry(TenantModel):
    """One leaf of the log: the canonical bytes of a business event, at its place in the tree.

    `leaf` is what is hashed; `kind`, `subject` and `created_at` repeat fields of it so that
    rows can be searched, and `ledger_verify` checks that they agree with it.
    """

    index = models.BigIntegerField(primary_key=True)
    kind = models.CharField(_("kind"), max_length=64)
    subject = models.CharField(_("subject"), max_length=128)
    leaf = models.BinaryField(_("canonical bytes"))
    leaf_hash = models.BinaryField(_("leaf hash"), max_length=32)
    created_at = models.DateTimeField(_("created at"))

    tenant_rls_extra_sql = _ENTRY_VISIBLE_SQL
    append_only = True
    # The organization acting is often not the only party (a buyer confirming a seller's
    # invoice), and an operator or a task may record events it is no party to.
    tenant_insert_for_any = True

    objects = LedgerEntryQuerySet.as_manager()

    class Meta:
        ordering = ["index"]
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        constraints = [models.CheckConstraint(condition=Q(index__gte=0), name="ledger_index_gte_0")]
        indexes = [models.Index(fields=["subject", "index"], name="ledger_entry_subject")]

    def __str__(self) -> str:
        return f"#{self.index} {self.kind} {self.subject}"


class LedgerEntryParty(TenantModel):
    """An organization that may read an entry's content (one row per party)."""

    pk = models.CompositePrimaryKey("entry", "organization")
    # Each leads an index already (the primary key, ledger_party_org): none of their own.
    entry = models.ForeignKey(
        LedgerEntry, on_delete=models.PROTECT, related_name="parties", db_index=False
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+", db_index=False
    )

    tenant_parties = ("organization",)
    append_only = True
    tenant_insert_for_any = True

    class Meta:
        indexes = [models.Index(fields=["organization", "entry"], name="ledger_party_org")]

    def __str__(self) -> str:
        return f"#{self.entry_id} party {self.organization_id}"


def node_id(level: int, start: int) -> int:
    """The key of the perfect subtree of `2**level` leaves starting at leaf `start`.

    In-order ("flat tree") numbering: leaves are the even numbers, a subtree's number sits
    between its halves. One integer per node keeps the table a bare (key, hash) pair.
    """
    return 2 * start + (1 << level) - 1


class LedgerNode(models.Model):
    """The root of a perfect, power-of-two aligned subtree, saved as the append completing it
    happens (leaves are level 0). Such a subtree never changes, so any proof is read from at
    most 2·log2(n) of these rows. Hashes only: readable by anyone signed in."""

    id = models.BigIntegerField(primary_key=True)
    hash = models.BinaryField(max_length=32)

    class Meta:
        verbose_name = _("ledger node")

    def __str__(self) -> str:
        return f"node {self.id}"


class LedgerHead(models.Model):
    """The one row holding the tree's size and right edge. Every append locks it, which is what
    orders appends strictly and without gaps, and updates it in O(log n)."""

    id = models.SmallIntegerField(primary_key=True, default=1)
    size = models.BigIntegerField(default=0)
    # CompactRange.to_hex(): one subtree root per set bit of `size`, largest first.
    frontier = models.JSONField(default=list)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(id=1), name="ledger_single_head")]

    def __str__(self) -> str:
        return f"ledger head (size {self.size})"


class LedgerCheckpoint(models.Model):
    """A signed tree head: tree size, root hash and time, signed with the platform's Ed25519
    key. Stored exactly as signed (the timestamp as the signed text), so that it can be handed
    out and checked byte for byte by `ledger/verifier.py`."""

    tree_size = models.BigIntegerField()
    root_hash = models.CharField(max_length=64)
    timestamp = models.CharField(max_length=40)
    signature = models.CharField(max_length=88)
    public_key = models.CharField(max_length=44)
    key_id = models.CharField(max_length=32)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("ledger checkpoint")
        indexes = [models.Index(fields=["tree_size"], name="ledger_checkpoint_size")]

    def __str__(self) -> str:
        return f"checkpoint {self.tree_size} {self.root_hash[:12]}"

    def as_json(self) -> dict:
        """The checkpoint as `ledger/verifier.py` reads it."""
        return {
            "tree_size": self.tree_size,
            "root_hash": self.root_hash,
            "timestamp": self.timestamp,
            "signature": self.signature,
            "public_key": self.public_key,
            "key_id": self.key_id,
        }
