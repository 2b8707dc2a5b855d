"""One place where domain errors and Django validation errors become API responses."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connection, transaction
from rest_framework import status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler

from scf_platform.errors import DomainError


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        response = Response({"detail": exc.message, "code": exc.code}, status=exc.status_code)
    elif isinstance(exc, DjangoValidationError):
        response = Response(as_serializer_error(exc), status=status.HTTP_400_BAD_REQUEST)
    else:
        response = drf_exception_handler(exc, context)
    if response is not None:
        _roll_back_the_request()
    return response


def _roll_back_the_request() -> None:
    """An answered error writes nothing. DRF's own set_rollback() only acts with
    ATOMIC_REQUESTS; here the request's transaction is opened by ActingOrganizationMiddleware."""
    if connection.in_atomic_block:
        transaction.set_rollback(True)
