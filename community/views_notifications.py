"""/notifications (the list, mark read) and /settings/notifications (email opt-ins); plain forms, no
script. The API is notifications_api.py; both call community/notifications.py
(docs/notifications.md)."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_POST

from models_app.views import safe_next

from . import notifications
from .models import Notification, NotificationKind

PAGE_SIZE = 30


def _is_local_path(url: str) -> bool:
    return url.startswith("/") and not url.startswith("//") and "\\" not in url


@login_required
def notification_list(request):
    unread_only = request.GET.get("unread") in ("1", "true")
    rows = notifications.notifications_of(request.user, unread_only=unread_only)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    items = [{"n": n, "text": notifications.describe(n)} for n in page.object_list]
    return render(
        request,
        "community/notifications/list.html",
        {
            "page": page,
            "items": items,
            "unread_only": unread_only,
            "unread_count": notifications.unread_count(request.user),
        },
    )


@login_required
@require_POST
def mark_read(request):
    """Mark one (`id`), several (`id` repeated) or all (`all`) of your notifications read, then go back."""
    if request.POST.get("all"):
        notifications.mark_read(request.user, everything=True)
    else:
        ids = [int(i) for i in request.POST.getlist("id") if i.isdigit()]
        notifications.mark_read(request.user, ids=ids)
    return redirect(safe_next(request) or "community_notifications:list")


@login_required
def open_notification(request, notification_id: int):
    """Follow a notification's link: it is marked read, then the browser goes where it points."""
    row = get_object_or_404(
        Notification.objects.filter(notifications.visible_to(request.user)),
        id=notification_id,
        recipient=request.user,
    )
    notifications.mark_read(request.user, ids=[row.id])
    return redirect(row.url if _is_local_path(row.url) else "community_notifications:list")


class EmailSettingsForm(forms.Form):
    kinds = forms.MultipleChoiceField(
        label=gettext_lazy("Email me about"),
        choices=NotificationKind.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )


@login_required
def notification_settings(request):
    if request.method == "POST":
        form = EmailSettingsForm(request.POST)
        if form.is_valid():
            notifications.set_email_kinds(request.user, form.cleaned_data["kinds"])
            messages.success(request, gettext("Your email settings are saved."))
            return redirect("community_notifications:settings")
    else:
        form = EmailSettingsForm(initial={"kinds": notifications.email_kinds(request.user)})
    return render(request, "community/notifications/settings.html", {"form": form})
