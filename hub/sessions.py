"""Sessions kept in the database, as django.contrib.sessions.backends.db keeps them, in the hub's own
table (hub.models.Session): the same key, data and expiry, plus the id of the person signed in to the
session in a column. Every signed-in request reads its session and then its person; here one query
built once (models_app/compiled.py) reads both, with what hub/auth_backends.py loads with the person
(their browsing levels, whether they hold any permission). AuthenticationMiddleware below hands that
person to the backend, and Django's own checks then run as ever (the session's hash of the password,
an active account). SESSION_ENGINE names this module, MIDDLEWARE the middleware (hub/settings.py).

A session names the backend that signed its person in. Those made before hub/auth_backends.py's
replaced Django's and allauth's name theirs, and are read as naming the replacements, so their people
stay signed in."""

from django.contrib.auth import BACKEND_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.auth import middleware as auth_middleware
from django.contrib.sessions.backends import db
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef
from django.db.models.functions import Now
from django.utils.functional import SimpleLazyObject

from hub import auth_backends
from hub.models import Session
from models_app.compiled import Built

_REPLACED_BACKENDS = {
    "django.contrib.auth.backends.ModelBackend": "hub.auth_backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend": "hub.auth_backends.AllauthBackend",
}


def _unexpired_with_its_person(key):
    """The session `key` if unexpired (Now() is the database's clock, where Django's own query uses
    the web process's), with its person as auth_backends loads them."""
    return (
        Session.objects.filter(session_key=key, expire_date__gt=Now())
        .select_related(*(f"user__{name}" for name in auth_backends.LOADED_WITH_USER))
        .annotate(user_holds_permissions=Exists(auth_backends.permissions_held_by(OuterRef("user_id"))))
    )


_UNEXPIRED = Built(_unexpired_with_its_person)


def _user_id_of(data: dict) -> int | None:
    """The id of the person a session's data signs in, else None."""
    try:
        return get_user_model()._meta.pk.to_python(data.get(SESSION_KEY))
    except ValidationError:
        return None


class SessionStore(db.SessionStore):
    person_read_with_it = None  # the user row that came with the session's row (auth_backends.person_from)

    @classmethod
    def get_model_class(cls):
        return Session

    def create_model_instance(self, data):
        row = super().create_model_instance(data)
        row.user_id = _user_id_of(data)
        return row

    def _get_session_from_db(self):
        found = _UNEXPIRED.objects(self.session_key)
        if not found:
            self._session_key = None  # as Django's: a new session is made if one is saved
            return None
        row = found[0]
        if row.user is not None:
            row.user.holds_permissions = row.user_holds_permissions
            self.person_read_with_it = row.user
        return row

    def load(self):
        data = super().load()
        if data.get(BACKEND_SESSION_KEY) in _REPLACED_BACKENDS:
            data[BACKEND_SESSION_KEY] = _REPLACED_BACKENDS[data[BACKEND_SESSION_KEY]]
        return data


def _get_user(request):
    """Django's middleware get_user (which keeps the user on the request), the backend taking the
    person read with the session."""
    with auth_backends.person_from(request.session):
        return auth_middleware.get_user(request)


class AuthenticationMiddleware(auth_middleware.AuthenticationMiddleware):
    """Django's, with request.user loaded by _get_user."""

    def process_request(self, request):
        super().process_request(request)
        request.user = SimpleLazyObject(lambda: _get_user(request))
