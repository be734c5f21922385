"""A user's permissions in one query instead of ModelBackend's two (their own and their groups'):
every signed-in page asks whether the viewer moderates (models_app.selectors.can_moderate).

Listed first in AUTHENTICATION_BACKENDS, it answers permission questions only: it signs nobody in
and loads no session's user (it has no get_user), so ModelBackend and allauth's backend, and the
sessions that name them, work as before. It fills `_perm_cache`, the attribute ModelBackend (and
allauth's backend, a subclass) read, so when it says no they ask no database again."""

from django.contrib.auth.models import Permission
from django.db.models import Q

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
