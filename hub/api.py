"""What every API view shares: errors as `{"detail": "..."}`, never a stack trace."""

from django.core.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc, context):
    """DRF's handler, plus the services' errors carrying their sentence: ValidationError (bad input)
    as a 400, PermissionDenied (not the caller's to change) as a 403."""
    if isinstance(exc, ValidationError):
        return Response({"detail": " ".join(exc.messages)}, status=400)
    if isinstance(exc, PermissionDenied) and exc.args:
        return Response({"detail": str(exc)}, status=403)
    return drf_exception_handler(exc, context)
