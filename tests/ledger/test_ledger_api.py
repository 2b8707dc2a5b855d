"""The ledger over the API: a party reads an entry's content, anyone signed in reads hashes and
proofs, and those proofs verify against the signed checkpoint with RFC 9162's algorithms.

(That a proof in a tree of 1,000,000 entries has at most 20 hashes is shown in test_merkle.py.)
"""

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from rest_framework.test import APIClient

from ledger import verifier
from ledger.merkle import verify_consistency, verify_inclusion
from ledger.models import LedgerCheckpoint, LedgerEntry
from ledger.services import ledger_checkpoint_sign
from scf_platform.models import OrganizationKind, Role
from tests.factories import OrganizationFactory, UserFactory, member
from tests.financing.factories import make_chain
from tests.ledger.conftest import SIGNING_KEY_RAW, append_events

pytestmark = pytest.mark.django_db

BASE = "/api/v1/ledger"


@pytest.fixture
def deal():
    """A chain with one confirmed invoice, 20 more entries between others, and a checkpoint."""
    chain = make_chain()
    invoice = chain.invoice("120000.00")
    outsider = OrganizationFactory(name="Outsider")
    append_events(20, [OrganizationFactory().pk, OrganizationFactory().pk])
    checkpoint = ledger_checkpoint_sign()
    confirmed = LedgerEntry.objects.get(kind="invoice.confirmed", subject=f"invoice:{invoice.pk}")
    return {
        "chain": chain,
        "invoice": invoice,
        "outsider": outsider,
        "outsider_user": member(outsider, Role.VIEWER),
        "checkpoint": checkpoint,
        "confirmed": confirmed,
    }


def _signed(checkpoint: dict) -> bool:
    message = verifier.signed_bytes(
        checkpoint["tree_size"], checkpoint["root_hash"], checkpoint["timestamp"]
    )
    return verifier.ed25519_verify(
        base64.b64decode(checkpoint["public_key"]),
        message,
        base64.b64decode(checkpoint["signature"]),
    )


def _included(body: dict, checkpoint: dict) -> bool:
    return verify_inclusion(
        bytes.fromhex(body["leaf_hash"]),
        body["index"],
        checkpoint["tree_size"],
        [bytes.fromhex(h) for h in body["inclusion_proof"]],
        bytes.fromhex(checkpoint["root_hash"]),
    )


def test_a_party_reads_the_entry_and_proves_it_is_in_the_signed_tree(api_as, deal):
    chain, entry = deal["chain"], deal["confirmed"]
    response = api_as(chain.supplier_maker, chain.supplier).get(f"{BASE}/entries/{entry.index}/")
    assert response.status_code == 200
    body = response.json()
    checkpoint = body["checkpoint"]
    assert checkpoint["tree_size"] == deal["checkpoint"].tree_size == body["tree_size"]
    assert _signed(checkpoint)
    assert _included(body, checkpoint)
    content = body["content"]
    assert (content["kind"], content["subject"]) == ("invoice.confirmed", entry.subject)
    leaf = base64.b64decode(content["leaf"])
    assert hashlib.sha256(b"\x00" + leaf).hexdigest() == body["leaf_hash"]
    assert content["event"]["payload"]["amount"] == "120000.00"
    assert content["event"]["parties"] == sorted([chain.supplier.pk, chain.core.pk])
    # The buyer is a party too.
    as_buyer = api_as(chain.core_checker, chain.core).get(f"{BASE}/entries/{entry.index}/")
    assert as_buyer.json()["content"]["leaf"] == content["leaf"]


def test_a_non_party_gets_the_hash_and_the_proof_but_not_the_content(api_as, deal):
    entry = deal["confirmed"]
    response = api_as(deal["outsider_user"], deal["outsider"]).get(f"{BASE}/entries/{entry.index}/")
    assert response.status_code == 200
    body = response.json()
    assert body["content"] is None
    assert "120000" not in response.content.decode()
    assert body["leaf_hash"] == bytes(entry.leaf_hash).hex()
    assert _included(body, body["checkpoint"])
    # The bank of the program is no party to an invoice not yet financed.
    chain = deal["chain"]
    as_bank = api_as(chain.bank_checker, chain.bank).get(f"{BASE}/entries/{entry.index}/")
    assert as_bank.json()["content"] is None


def test_a_proof_to_an_older_tree_size_verifies_against_that_checkpoint(api_as, deal):
    first = deal["checkpoint"]
    append_events(7, [deal["outsider"].pk])
    ledger_checkpoint_sign()
    client = api_as(deal["outsider_user"], deal["outsider"])
    latest = client.get(f"{BASE}/entries/3/").json()
    assert latest["tree_size"] == first.tree_size + 7
    old = client.get(f"{BASE}/entries/3/", {"tree_size": first.tree_size}).json()
    assert old["checkpoint"]["root_hash"] == first.root_hash
    assert _included(old, old["checkpoint"]) and _included(latest, latest["checkpoint"])
    assert len(latest["inclusion_proof"]) <= (latest["tree_size"] - 1).bit_length()
    # A size no checkpoint was signed at still gets a proof and its root, unsigned.
    unsigned = client.get(f"{BASE}/entries/3/", {"tree_size": 5}).json()
    assert unsigned["checkpoint"] is None
    assert verify_inclusion(
        bytes.fromhex(unsigned["leaf_hash"]),
        3,
        5,
        [bytes.fromhex(h) for h in unsigned["inclusion_proof"]],
        bytes.fromhex(unsigned["root_hash"]),
    )


def test_consistency_between_two_signed_checkpoints_verifies(api_as, deal):
    first = deal["checkpoint"]
    append_events(13, [deal["outsider"].pk])
    second = ledger_checkpoint_sign()
    client = api_as(deal["outsider_user"], deal["outsider"])
    body = client.get(
        f"{BASE}/consistency/", {"first": first.tree_size, "second": second.tree_size}
    ).json()
    assert (body["first_root"], body["second_root"]) == (first.root_hash, second.root_hash)
    proof = [bytes.fromhex(h) for h in body["proof"]]
    assert verify_consistency(
        first.tree_size,
        second.tree_size,
        bytes.fromhex(first.root_hash),
        bytes.fromhex(second.root_hash),
        proof,
    )
    assert not verify_consistency(
        first.tree_size,
        second.tree_size,
        bytes.fromhex(first.root_hash),
        bytes.fromhex(first.root_hash),
        proof,
    )


def test_public_key_latest_and_list_of_checkpoints(api_as, deal):
    ledger_checkpoint_sign()
    client = api_as(deal["outsider_user"], deal["outsider"])
    key = client.get(f"{BASE}/public-key/").json()
    assert key["algorithm"] == "Ed25519"
    assert verifier.parse_public_key(key["pem"]) == base64.b64decode(key["public_key"])
    latest = client.get(f"{BASE}/checkpoints/latest/").json()
    assert latest["public_key"] == key["public_key"] and latest["key_id"] == key["key_id"]
    assert _signed(latest)
    listed = client.get(f"{BASE}/checkpoints/").json()
    assert listed["count"] == 2
    assert listed["results"][0] == latest


def test_the_operator_and_a_bank_admin_sign_a_checkpoint_on_demand(api_as, deal):
    chain = deal["chain"]
    operator = UserFactory(is_superuser=True, is_staff=True)
    before = LedgerCheckpoint.objects.count()
    for client in (api_as(operator), api_as(chain.bank_admin, chain.bank)):
        response = client.post(f"{BASE}/checkpoints/")
        assert response.status_code == 201, response.content
        assert _signed(response.json())
    assert LedgerCheckpoint.objects.count() == before + 2


@pytest.mark.parametrize("who", ["bank_checker", "supplier_admin", "outsider_user"])
def test_others_may_not_sign_a_checkpoint(api_as, deal, who):
    chain = deal["chain"]
    user, organization = {
        "bank_checker": (chain.bank_checker, chain.bank),
        "supplier_admin": (chain.supplier_admin, chain.supplier),
        "outsider_user": (deal["outsider_user"], deal["outsider"]),
    }[who]
    before = LedgerCheckpoint.objects.count()
    assert api_as(user, organization).post(f"{BASE}/checkpoints/").status_code == 403
    assert LedgerCheckpoint.objects.count() == before


def test_an_admin_of_an_enterprise_is_not_a_bank_admin(api_as, deal):
    enterprise = OrganizationFactory(kind=OrganizationKind.ENTERPRISE)
    client = api_as(member(enterprise, Role.ADMIN), enterprise)
    assert client.post(f"{BASE}/checkpoints/").status_code == 403


def test_signing_without_a_key_in_production_answers_503(api_as, deal, settings):
    settings.LEDGER_SIGNING_KEY = ""
    settings.DEBUG = False
    chain = deal["chain"]
    response = api_as(chain.bank_admin, chain.bank).post(f"{BASE}/checkpoints/")
    assert response.status_code == 503
    assert response.json()["code"] == "signing_key_missing"
    assert api_as(chain.bank_admin, chain.bank).get(f"{BASE}/public-key/").status_code == 503


def test_bad_sizes_and_indexes(api_as, deal):
    client = api_as(deal["outsider_user"], deal["outsider"])
    size = deal["checkpoint"].tree_size
    assert client.get(f"{BASE}/entries/{size}/").status_code == 404
    assert client.get(f"{BASE}/entries/0/", {"tree_size": size + 1}).status_code == 400
    assert client.get(f"{BASE}/entries/0/", {"tree_size": 0}).status_code == 400
    assert client.get(f"{BASE}/entries/0/", {"tree_size": "x"}).status_code == 400
    assert client.get(f"{BASE}/entries/5/", {"tree_size": 5}).status_code == 404
    assert client.get(f"{BASE}/consistency/", {"first": 5, "second": 3}).status_code == 400
    assert client.get(f"{BASE}/consistency/", {"first": 1}).status_code == 400
    assert client.get(f"{BASE}/consistency/", {"first": 1, "second": size + 1}).status_code == 400
    empty = client.get(f"{BASE}/consistency/", {"first": 0, "second": size}).json()
    assert empty["proof"] == []


def test_before_any_checkpoint_an_entry_needs_an_explicit_tree_size(api_as):
    organization = OrganizationFactory()
    append_events(3, [organization.pk])
    client = api_as(member(organization), organization)
    assert client.get(f"{BASE}/checkpoints/latest/").status_code == 404
    assert client.get(f"{BASE}/entries/1/").status_code == 404
    body = client.get(f"{BASE}/entries/1/", {"tree_size": 3}).json()
    assert body["content"]["event"]["index"] == 1


def test_not_signed_in_is_401_everywhere(deal):
    client = APIClient()
    for path in (
        "public-key/",
        "checkpoints/",
        "checkpoints/latest/",
        "entries/0/",
        "consistency/?first=0&second=1",
    ):
        assert client.get(f"{BASE}/{path}").status_code == 401, path
    assert client.post(f"{BASE}/checkpoints/").status_code == 401


def test_the_served_key_is_the_configured_one(api_as, deal):
    expected = (
        Ed25519PrivateKey.from_private_bytes(SIGNING_KEY_RAW)
        .public_key()
        .public_bytes(Encoding.Raw, PublicFormat.Raw)
    )
    client = api_as(deal["outsider_user"], deal["outsider"])
    assert base64.b64decode(client.get(f"{BASE}/public-key/").json()["public_key"]) == expected
