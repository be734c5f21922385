"""{% follow_button target_type target %}: the follower count and a Follow/Unfollow form, on creator
profiles and model pages (templates are not imports, so models_app's template may load this)."""

from django import template

from .. import follows

register = template.Library()


@register.inclusion_tag("community/follows/_button.html", takes_context=True)
def follow_button(context, target_type: str, target):
    request = context["request"]
    key = {"user": "creator", "model": "model"}[target_type]
    user = request.user
    count, following = follows.followers(user, {key: target})
    return {
        "target_type": target_type,
        "target_id": target.id,
        "count": count,
        "following": following,
        "can_follow": user.is_authenticated and not (target_type == "user" and target.id == user.id),
        "next": request.get_full_path(),
        "user": user,
        "csrf_token": context.get("csrf_token"),
    }
