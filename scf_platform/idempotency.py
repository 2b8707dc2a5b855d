"""One-time keys: `Idempotency-Key` for API actions, and the key every portal form that moves
money or state carries. A repeat with the same key and input returns the first outcome and does
nothing again; the same key with other input is refused (422 in the API, 409 in the portal)."""

import functools
import hashlib
import json
import re
import secrets

from django.contrib import messages
from django.db import connection, transaction
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
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


# The portal's forms -----------------------------------------------------------------------------
# A form that moves money or state carries a one-time key in the field `once`, minted when the
# entry form is drawn (Chromium re-sends the entry form's POST when the user goes Back to the
# confirmation page, so a key minted there would be a new one each time) and carried through the
# confirmation step. It is recorded through the same table and claim as an API key, scoped to the
# organization and, inside it, to the user: "portal:<user id>:<key>".

ONCE_FIELD = "once"
_ONCE_KEY = re.compile(r"[A-Za-z0-9_-]{16,64}")
# What a form's fingerprint leaves out: the CSRF token changes between two draws of one form, and
# the confirmation step's answer is the same intention as the entry form's POST.
_NOT_FINGERPRINTED = {"csrfmiddlewaretoken", "confirmed", ONCE_FIELD}


def once_key_mint() -> str:
    return secrets.token_urlsafe(24)


def once_key_carried(request) -> str | None:
    """The one-time key the request carries (a redrawn form keeps its key), if well formed."""
    key = request.POST.get(ONCE_FIELD) or request.GET.get(ONCE_FIELD)
    return key if key and _ONCE_KEY.fullmatch(key) else None


def _form_fingerprint(request) -> str:
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    for name in sorted(request.POST):
        if name not in _NOT_FINGERPRINTED:
            for value in request.POST.getlist(name):
                digest.update(json.dumps([name, value]).encode())
    for name in sorted(request.FILES):
        for upload in request.FILES.getlist(name):
            content = hashlib.sha256()
            for chunk in upload.chunks():
                content.update(chunk)
            upload.seek(0)
            digest.update(json.dumps([name, upload.name, content.hexdigest()]).encode())
    return digest.hexdigest()


def _portal_key(request, key: str) -> str:
    return f"portal:{request.user.pk}:{key}"


def once_per_key(view):
    """Decorate a portal view whose POST moves money or state. A POST whose key was used with
    the same input answers the first outcome again (a redirect to the same page) and does
    nothing; with other input it is refused (409). Only a redirect is an outcome: a POST that
    draws a page (the confirmation step, the form again with its errors) leaves the key free. The
    record and the view's effect commit together; an exception takes the claim with it.

    A POST without a key (a script, not one of the portal's forms) gets a fresh one: never a
    replay, but the view can still name its outcome by `request.once_key` (the upload report)."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        acting = getattr(request, "acting", None)
        organization = acting.organization if acting else None
        if request.method != "POST" or organization is None:
            return view(request, *args, **kwargs)
        sent = request.POST.get(ONCE_FIELD)
        if sent and not _ONCE_KEY.fullmatch(sent):
            return _once_refused(
                request, _("This form's one-time key is malformed; open the form again."), 400
            )
        request.once_key = sent or once_key_mint()
        key = _portal_key(request, request.once_key)
        fingerprint = _form_fingerprint(request)
        with transaction.atomic():
            if not _claim(organization_id=organization.pk, key=key, fingerprint=fingerprint):
                record = IdempotencyRecord.objects.get(organization=organization, key=key)
                if record.fingerprint != fingerprint:
                    return _once_refused(
                        request,
                        _(
                            "This form was already sent with other values, so nothing was done. "
                            "Open the form again to start anew."
                        ),
                        409,
                    )
                messages.info(request, _("This form was already sent; nothing was done again."))
                return redirect(record.response_body["location"])
            response = view(request, *args, **kwargs)
            records = IdempotencyRecord.objects.filter(organization=organization, key=key)
            if 300 <= response.status_code < 400 and response.has_header("Location"):
                records.update(
                    status_code=response.status_code,
                    response_body={
                        "location": response["Location"],
                        **getattr(response, "once_outcome", {}),
                    },
                )
            else:
                records.delete()
            return response

    return wrapper


def once_outcome(request, key: str) -> dict | None:
    """What the acting user's form sent with `key` recorded as its outcome, or None."""
    organization = request.acting.organization if request.acting else None
    if organization is None or not _ONCE_KEY.fullmatch(key or ""):
        return None
    record = IdempotencyRecord.objects.filter(
        organization=organization, key=_portal_key(request, key), status_code__isnull=False
    ).first()
    return record.response_body if record else None


def _once_refused(request, message: str, status: int):
    return render(request, "portal/once_refused.html", {"message": message}, status=status)
