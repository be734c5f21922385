"""The moderator role: a group holding the catalog's moderate permission.

Content apps check the permission (`models_app.moderate_content`), not this module, so they never
import moderation.
"""

from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import transaction

from models_app.models import AIModel

MODERATORS_GROUP = "moderators"


def ensure_moderator_group() -> Group:
    """The moderators group with its permission; created on first use, safe to call again."""
    content_type = ContentType.objects.get_for_model(AIModel)
    permission, _ = Permission.objects.get_or_create(
        codename="moderate_content",
        content_type=content_type,
        defaults={"name": "Can see and moderate any creator's content"},
    )
    group, _ = Group.objects.get_or_create(name=MODERATORS_GROUP)
    group.permissions.add(permission)
    return group


@transaction.atomic
def grant_moderator(*, user) -> None:
    user.groups.add(ensure_moderator_group())
