"""API keys for tools: `Authorization: Bearer <key>` or `?token=<key>` (CivitAI's conventions)."""

from allauth.account.adapter import get_adapter
from django import forms
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.translation import gettext
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from .models import ApiKey, hash_api_key


def active_api_key(raw: str) -> ApiKey | None:
    """The active key (not revoked, of an active user) this raw key is, with its user, or None."""
    raw = (raw or "").strip()
    if not raw or len(raw) > 200:
        return None
    key = ApiKey.objects.select_related("user").filter(key_hash=hash_api_key(raw), revoked_at=None).first()
    if key is None or not key.user.is_active:
        return None
    ApiKey.objects.filter(id=key.id).update(last_used_at=timezone.now())
    return key


SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def read_only_refusal() -> str:
    return gettext(
        "This API key is read-only: it can't change anything. Create a key with read and write "
        "access at /settings/api-keys to do this."
    )


def reads_only(view):
    """Marks a view whose POST only reads (CivitAI's by-hash look-ups, a wildcard expansion): a
    read-only key may use it. Works on a function view or an APIView class."""
    view.api_key_reads = True
    return view


def key_may(key: ApiKey, request, view=None) -> bool:
    """Whether `key` may make this request: a read-only key only reads (docs/security.md#api-key-scopes)."""
    if key.can_write or request.method in SAFE_METHODS:
        return True
    if view is None and getattr(request, "resolver_match", None) is not None:
        view = request.resolver_match.func
    view = getattr(view, "view_class", None) or getattr(view, "cls", None) or view
    return bool(getattr(view, "api_key_reads", False))


def user_for_api_key(raw: str):
    """The active user an API key belongs to, or None."""
    key = active_api_key(raw)
    return key.user if key else None


def api_key_from_request(request) -> str | None:
    """The key a request carries: after the first space of Authorization (the scheme word isn't
    checked, as CivitAI's clients vary), else the `token` query parameter."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if " " in header and not header.lower().startswith("basic "):
        return header.split(" ", 1)[1]
    return request.GET.get("token")


def resolve_api_key(request) -> tuple[bool, object]:
    """(whether the request carries a key, its user or None). Plain Django views reach this through
    settings.API_KEY_RESOLVER, so content apps need not import community."""
    raw = api_key_from_request(request)
    if raw is None or not raw.strip():
        return False, None
    key = active_api_key(raw)
    if key is not None and not key_may(key, request):
        raise PermissionDenied(read_only_refusal())
    return True, key.user if key else None


class ApiKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        raw = api_key_from_request(request._request)
        if raw is None:
            return None
        key = active_api_key(raw)
        if key is None:
            raise exceptions.AuthenticationFailed("Unauthorized")
        # Every API view authenticates before its own permissions run, so this one check covers
        # them all, whatever permission_classes a view sets.
        if not key_may(key, request, request.parser_context.get("view")):
            raise exceptions.PermissionDenied(read_only_refusal())
        return key.user, key

    def authenticate_header(self, request):
        return "Bearer"


class ThrottledBasicAuthentication(authentication.BasicAuthentication):
    """HTTP Basic for scripts, counted against the same failed-login limit as the login form.

    Passwords go through allauth's adapter, which consumes (and on success gives back) the
    `login_failed` rate limit per account and per address (ACCOUNT_RATE_LIMITS): a password
    guessed over Basic locks the form too, and the other way round. DRF's own BasicAuthentication
    checked passwords without any limit."""

    def authenticate_credentials(self, userid, password, request=None):
        django_request = getattr(request, "_request", request)
        credentials = {"email": userid} if "@" in userid else {"username": userid}
        try:
            user = get_adapter(django_request).authenticate(django_request, password=password, **credentials)
        except forms.ValidationError:  # allauth's "too many failed login attempts"
            raise exceptions.Throttled(
                detail="Too many failed login attempts; try again later, or use an API key."
            ) from None
        if user is None or not user.is_active:
            raise exceptions.AuthenticationFailed("Invalid username or password.")
        return user, None


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    """How the OpenAPI schema (/api/schema/) describes ApiKeyAuthentication: a Bearer header or the
    `token` query parameter, either one."""

    target_class = ApiKeyAuthentication
    name = ["apiKeyBearer", "apiKeyQuery"]

    def get_security_definition(self, auto_schema):
        where = (
            "Create keys at /settings/api-keys or with `manage.py create_api_key USERNAME --scope read|write`. "
            "A read-only key gets 403 on every write (docs/security.md#api-key-scopes)."
        )
        return [
            {"type": "http", "scheme": "bearer", "description": f"An API key as a Bearer token. {where}"},
            {
                "type": "apiKey",
                "in": "query",
                "name": "token",
                "description": f"An API key as `?token=`. {where}",
            },
        ]

    def get_security_requirement(self, auto_schema):
        return [{"apiKeyBearer": []}, {"apiKeyQuery": []}]  # either one, not both


class ThrottledBasicAuthenticationScheme(OpenApiAuthenticationExtension):
    """HTTP Basic in the OpenAPI schema, as drf-spectacular describes DRF's own class."""

    target_class = ThrottledBasicAuthentication
    name = "basicAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "basic",
            "description": "Username (or email) and password; failed attempts count against the login limit.",
        }
