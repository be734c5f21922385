"""What every API view shares: errors as `{"detail": "..."}`, never a stack trace."""

from django.core.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc, context):
    """DRF's handler, plus the services' ValidationError as a 400 carrying its sentence."""
    if isinstance(exc, ValidationError):
        return Response({"detail": " ".join(exc.messages)}, status=400)
    return drf_exception_handler(exc, context)
