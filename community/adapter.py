"""allauth, adapted to the hub: usernames people can tell apart (community/usernames.py)."""

from types import SimpleNamespace

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.contrib import messages
from django.http import HttpResponseRedirect
from django.urls import reverse

from models_app import sanctions

from .models import UsernameSkeleton
from .usernames import check_username, skeleton


def configured_host() -> str:
    """The first concrete name of ALLOWED_HOSTS (".hub.example" → "hub.example"), for when there is no
    request to take the host from."""
    for host in settings.ALLOWED_HOSTS:
        host = host.lstrip(".")
        if host and "*" not in host:
            return host
    return "localhost"


def hub_site(request=None) -> SimpleNamespace:
    """What allauth's emails say of the site (`current_site.name` and `.domain`): SITE_NAME, and the
    host the visitor used (Django checked it against ALLOWED_HOSTS), never django.contrib.sites'
    "example.com"."""
    host = request.get_host() if request is not None else configured_host()
    return SimpleNamespace(name=settings.SITE_NAME, domain=host)


def sync_site(sender, using="default", **kwargs):
    """post_migrate: the sites framework's row names the hub too (the admin and allauth's pages read it)."""
    from django.contrib.sites.models import Site

    Site.objects.using(using).update_or_create(
        id=settings.SITE_ID, defaults={"name": settings.SITE_NAME[:50], "domain": configured_host()[:100]}
    )


class AccountAdapter(DefaultAccountAdapter):
    def pre_login(self, request, user, **kwargs):
        # A suspended account may not sign in (docs/moderation.md): moderation's check, asked through
        # models_app.sanctions since community never imports moderation.
        refusal = sanctions.login_refusal(user)
        if refusal:
            from allauth.account.internal.stagekit import clear_login

            clear_login(request)
            messages.error(request, refusal)
            return HttpResponseRedirect(reverse("account_login"))
        return super().pre_login(request, user, **kwargs)

    def format_email_subject(self, subject: str) -> str:
        return f"[{settings.SITE_NAME}] {subject}"

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        super().send_mail(template_prefix, email, {**context, "current_site": hub_site(self.request)})

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
