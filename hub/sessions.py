"""Sessions kept in the database as django.contrib.sessions.backends.db keeps them (the same table and
rows), read with a query built once (models_app/compiled.py): every signed-in request reads its
session first, and the ORM took longer to build that query than PostgreSQL took to answer it.
SESSION_ENGINE names this module (hub/settings.py).

A session names the backend that signed its person in. Those made before hub/auth_backends.py's
replaced Django's and allauth's name theirs, and are read as naming the replacements, so their people
stay signed in."""

from django.contrib.auth import BACKEND_SESSION_KEY
from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.db.models.functions import Now

from models_app.compiled import Built

_REPLACED_BACKENDS = {
    "django.contrib.auth.backends.ModelBackend": "hub.auth_backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend": "hub.auth_backends.AllauthBackend",
}
# Now() is the database's clock, where Django's own query uses the web process's.
_UNEXPIRED = Built(lambda key: Session.objects.filter(session_key=key, expire_date__gt=Now()))


class SessionStore(db.SessionStore):
    def _get_session_from_db(self):
        found = _UNEXPIRED.objects(self.session_key)
        if not found:
            self._session_key = None  # as Django's: a new session is made if one is saved
            return None
        return found[0]

    def load(self):
        data = super().load()
        if data.get(BACKEND_SESSION_KEY) in _REPLACED_BACKENDS:
            data[BACKEND_SESSION_KEY] = _REPLACED_BACKENDS[data[BACKEND_SESSION_KEY]]
        return data
