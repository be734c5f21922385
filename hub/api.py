"""What every API view shares: errors as `{"detail": "..."}`, never a stack trace."""

from django.core.exceptions import PermissionDenied, ValidationError
from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from models_app import content_rules
from models_app.files import bounded_json


def exception_handler(exc, context):
    """DRF's handler, plus the services' errors carrying their sentence: ValidationError (bad input)
    as a 400, PermissionDenied (not the caller's to change) as a 403."""
    if isinstance(exc, content_rules.ContentRefused):  # a transparent refusal: the rule, field and term
        return Response(exc.as_dict(), status=400)
    if isinstance(exc, ValidationError):
        return Response({"detail": " ".join(exc.messages)}, status=400)
    if isinstance(exc, PermissionDenied) and exc.args:
        return Response({"detail": str(exc)}, status=403)
    return drf_exception_handler(exc, context)


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser through the hub's one bounded reader: a body nested 100,000 deep, NaN or
    broken UTF-8 is a 400 that says so, never a RecursionError (docs/hostile-input.md)."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return bounded_json.loads(stream.read() if stream is not None else b"")
        except bounded_json.JSONRejected as exc:
            raise ParseError(str(exc)) from None
