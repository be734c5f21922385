"""{% follow_button target_type target %}: the follower count and a Follow/Unfollow form, on creator
profiles and model pages (templates are not imports, so models_app's template may load this).
Rendered once per distinct content (models_app/rendered_once.py), the CSRF token put in after."""

from django import template

from models_app.rendered_once import RenderedOnce

from .. import follows

register = template.Library()

_button = RenderedOnce("community/follows/_button.html")


@register.simple_tag(takes_context=True)
def follow_button(context, target_type: str, target, count: int | None = None, following: bool | None = None):
    """`count` and `following` when the caller read them (the kept model page's hole:
    community/follows/_model_follow.html), else one query."""
    request = context["request"]
    key = {"user": "creator", "model": "model"}[target_type]
    user = request.user
    if count is None or following is None:
        count, following = follows.followers(user, {key: target})
    signed_in = user.is_authenticated
    can_follow = signed_in and not (target_type == "user" and target.id == user.id)
    next_path = request.get_full_path()
    return _button.render(
        (target_type, target.id, count, following, can_follow, signed_in, next_path),
        {
            "target_type": target_type,
            "target_id": target.id,
            "count": count,
            "following": following,
            "can_follow": can_follow,
            "signed_in": signed_in,
            "next": next_path,
        },
        csrf_token=context.get("csrf_token", ""),
    )
