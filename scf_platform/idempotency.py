"""`Idempotency-Key` for API actions: a repeat with the same key and body returns the first
response and does nothing again; the same key with another body answers 422."""

import functools
import hashlib
import json

from django.db import connection, transaction
from rest_framework.response import Response

from scf_platform.models import IdempotencyRecord


def _fingerprint(request) -> str:
    body = json.dumps(request.data, sort_keys=True, default=str) if request.data else ""
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def _claim(*, organization_id: int, key: str, fingerprint: str) -> bool:
    """Insert the key's record; True if this request owns it. A concurrent request with the same
    key waits here on the unique index until the owner's transaction ends."""
    table = connection.ops.quote_name(IdempotencyRecord._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (organization_id, key, fingerprint, created_at)"  # noqa: S608
            " VALUES (%s, %s, %s, CURRENT_TIMESTAMP)"
            " ON CONFLICT (organization_id, key) DO NOTHING RETURNING id",
            [organization_id, key, fingerprint],
        )
        return cursor.fetchone() is not None


def idempotent(action):
    """Decorate a DRF action. The record and the action's effect commit together or not at all,
    so a failed first attempt (4xx, rolled back) leaves the key free for a retry."""

    @functools.wraps(action)
    def wrapper(view, request, *args, **kwargs):
        key = request.headers.get("Idempotency-Key")
        organization = getattr(request.acting, "organization", None)
        if not key or organization is None:
            return action(view, request, *args, **kwargs)
        if len(key) > 255:
            return Response({"detail": "Idempotency-Key is longer than 255 characters."}, 400)
        fingerprint = _fingerprint(request)
        # A savepoint: an action that raises (the 4xx the exception handler answers) takes its
        # claim of the key with it, whatever the request's own transaction does.
        with transaction.atomic():
            if not _claim(organization_id=organization.pk, key=key, fingerprint=fingerprint):
                record = IdempotencyRecord.objects.get(organization=organization, key=key)
                if record.fingerprint != fingerprint:
                    return Response(
                        {
                            "detail": "This Idempotency-Key was used with another request.",
                            "code": "idempotency_key_reused",
                        },
                        status=422,
                    )
                replay = Response(record.response_body, status=record.status_code)
                replay["Idempotent-Replayed"] = "true"
                return replay
            response = action(view, request, *args, **kwargs)
            IdempotencyRecord.objects.filter(organization=organization, key=key).update(
                status_code=response.status_code, response_body=response.data
            )
            return response

    return wrapper
