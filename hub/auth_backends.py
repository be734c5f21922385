"""Who the signed-in person is and what they may do, in fewer queries: every signed-in page loads the
session's user and asks whether they moderate (models_app.selectors.can_moderate).

- `PermissionsInOneQuery`, listed first in AUTHENTICATION_BACKENDS, answers permission questions
  only, in one query instead of ModelBackend's two (their own and their groups'). It signs nobody in
  and has no get_user. It fills `_perm_cache`, the attribute ModelBackend (and allauth's backend, a
  subclass) read, so when it says no they ask no database again.
- `ModelBackend` and `AllauthBackend` are Django's and allauth's, signing people in as they do, with
  a get_user that loads the user, whether they hold any permission at all and their browsing levels
  in one query built once; in a request, hub/sessions.py reads them with the session itself and
  get_user takes them from there (`person_from`). Most people hold no permission: their
  `_perm_cache` is then empty and nothing asks again. Sessions made before these replaced Django's
  and allauth's name those; hub/sessions.py reads them as naming these."""

import contextlib
import contextvars

from allauth.account.auth_backends import AuthenticationBackend
from django.contrib.auth import backends, get_user_model
from django.contrib.auth.models import Permission
from django.db.models import Exists, OuterRef, Q

from models_app.compiled import Built


def _pairs(permissions):
    return permissions.values_list("content_type__app_label", "codename").order_by().distinct()


# Asked on every signed-in page: built once (models_app/compiled.py). A superuser has them all.
_OWN = Built(
    lambda user_id: _pairs(Permission.objects.filter(Q(user__id=user_id) | Q(group__user__id=user_id)))
)
_ALL = Built(lambda user_id: _pairs(Permission.objects.all()))


class PermissionsInOneQuery:
    def authenticate(self, request, **credentials):
        return None  # the backends after it check passwords

    def get_all_permissions(self, user_obj, obj=None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            pairs = (_ALL if user_obj.is_superuser else _OWN).rows(user_obj.pk)
            user_obj._perm_cache = {f"{app}.{codename}" for app, codename in pairs}
        return user_obj._perm_cache

    def has_perm(self, user_obj, perm, obj=None) -> bool:
        return perm in self.get_all_permissions(user_obj, obj)

    def has_module_perms(self, user_obj, app_label) -> bool:
        return any(perm.split(".", 1)[0] == app_label for perm in self.get_all_permissions(user_obj))


# What is loaded with a user (select_related): their browsing levels, which
# models_app/preferences.py reads from the user when loaded.
LOADED_WITH_USER = ("viewer_preference",)


def permissions_held_by(user_id):
    """The permissions held by `user_id` (an OuterRef, in the user's query), their own or a group's."""
    return Permission.objects.filter(Q(user__id=user_id) | Q(group__user__id=user_id))


def _user_with_what_every_page_asks(user_id):
    users = get_user_model().objects.select_related(*LOADED_WITH_USER)
    return users.filter(pk=user_id).annotate(holds_permissions=Exists(permissions_held_by(OuterRef("pk"))))


_USER = Built(_user_with_what_every_page_asks)
# The session being signed in to (hub/sessions.py) while its person is loaded, in this request.
_SESSION: contextvars.ContextVar = contextvars.ContextVar("hub_session_signing_in", default=None)


@contextlib.contextmanager
def person_from(session):
    """Within it, get_user takes the person that `session` read with its row (as
    _user_with_what_every_page_asks loads them), when it is the one asked for."""
    token = _SESSION.set(session)
    try:
        yield
    finally:
        _SESSION.reset(token)


def _read_with_session(user_id):
    person = getattr(_SESSION.get(), "person_read_with_it", None)
    return person if person is not None and person.pk == user_id else None


class _LoadsUserInOneQuery:
    def get_user(self, user_id):
        user = _read_with_session(user_id)
        if user is None:
            found = _USER.objects(user_id)
            if not found:
                return None
            user = found[0]
        if not user.holds_permissions and not user.is_superuser:
            user._perm_cache = set()  # none: has_perm asks no database (see PermissionsInOneQuery)
        return user if self.user_can_authenticate(user) else None


class ModelBackend(_LoadsUserInOneQuery, backends.ModelBackend):
    pass


class AllauthBackend(_LoadsUserInOneQuery, AuthenticationBackend):
    pass
