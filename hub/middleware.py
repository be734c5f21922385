"""Request checks that apply to every view."""

from django.http import HttpResponseBadRequest, JsonResponse

from .api import error_body


class RejectNulCharactersMiddleware:
    """A NUL character in the path or the query string is refused with a 400 before any view runs.

    PostgreSQL cannot store or even compare text containing NUL, so such a value reaching a query
    would be a 500 (docs/hostile-input.md, items 15 and 16). Form and API fields are covered by the
    NUL validators of Django's and DRF's CharField.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or any(
            "\x00" in key or "\x00" in value for key, value in request.GET.items()
        ):
            message = "The request contains a NUL character."
            if request.path.startswith("/api/"):
                return JsonResponse(error_body(request.path, message), status=400)
            return HttpResponseBadRequest(message)
        return self.get_response(request)
