"""allauth, adapted to the hub: usernames people can tell apart (community/usernames.py)."""

from allauth.account.adapter import DefaultAccountAdapter

from .models import UsernameSkeleton
from .usernames import check_username, skeleton


class AccountAdapter(DefaultAccountAdapter):
    def clean_username(self, username, shallow=False):
        """allauth's checks (length, reserved names, taken ignoring case), then the safe character set
        and, unless `shallow`, no look-alike of an existing name."""
        username = super().clean_username(username, shallow=shallow)
        check_username(
            username,
            taken=lambda key: not shallow and UsernameSkeleton.objects.filter(skeleton=key).exists(),
        )
        return username


def remember_skeleton(sender, instance, **kwargs):
    """post_save of the user model: keep the username's look-alike key in step."""
    UsernameSkeleton.objects.update_or_create(
        user=instance, defaults={"skeleton": skeleton(instance.username)}
    )
