"""Request checks that apply to every view."""

import ipaddress

from django.conf import settings
from django.http import HttpResponseBadRequest, JsonResponse


class ForwardedForMiddleware:
    """Behind TRUSTED_PROXY_HOPS reverse proxies, the visitor's address is in X-Forwarded-For.

    Each proxy appends the address it received the request from, so counting `hops` entries from
    the right gives the address the outermost trusted proxy saw; what a visitor wrote further left
    is never believed. REMOTE_ADDR then holds it, for the per-address rate limits and the logs
    (docs/operations.md#behind-a-proxy). Without the header, or with a malformed entry, REMOTE_ADDR
    stays the proxy's address.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        hops = settings.TRUSTED_PROXY_HOPS
        if hops > 0:
            chain = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
            chain = [part for part in chain if part]
            if len(chain) >= hops:
                try:
                    request.META["REMOTE_ADDR"] = str(ipaddress.ip_address(chain[-hops]))
                except ValueError:
                    pass
        return self.get_response(request)


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
                return JsonResponse({"error": message}, status=400)
            return HttpResponseBadRequest(message)
        return self.get_response(request)
