"""The cast and the things the authorization matrix (tests/test_authz_matrix.py) aims its requests at:
everything belongs to "owner", so every other role acts on someone else's things. Built through the
services, as users do."""

import io
from dataclasses import dataclass, field
from datetime import timedelta

from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from PIL import Image as PILImage

from tests.factories import add_example_image, make_model, make_user

ROLES = ("anonymous", "owner", "other", "moderator", "admin")


def png_bytes() -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", (16, 16), (90, 140, 200)).save(out, format="PNG")
    return out.getvalue()


@dataclass
class World:
    users: dict
    kwargs: dict = field(default_factory=dict)  # sample value for each URL keyword, by name


def build_world(run_on_commit) -> World:
    from billing import services as billing_services
    from community import comments, follows, lineage, notifications
    from community.collections import add_item, create_collection, find_target
    from community.models import Notification
    from community.services import create_api_key
    from models_app import funding, services
    from moderation import services as moderation_services
    from moderation.claims import file_claim
    from moderation.roles import grant_moderator
    from resources.images import create_post

    owner = make_user("owner")
    other = make_user("other")
    moderator = make_user("moderator")
    grant_moderator(user=moderator)
    admin = make_user("admin", is_staff=True, is_superuser=True)
    with run_on_commit():
        model = make_model(owner, name="Matrix LoRA")
    version = model.versions.get()
    model_file = version.files.get()
    image = add_example_image(version, run_on_commit, name="example.png", content=png_bytes())
    with run_on_commit():
        second = services.create_version(model=model, name="v2.0", base_model="SD 1.5", trained_words=["x"])
    lineage.declare_parent(user=owner, child=second, parent_id=version.id, relation="finetune_of")
    upload = services.start_upload(version=second, by=owner, filename="big.safetensors", size=1024)

    post = create_post(owner=owner, title="Matrix post")
    collection = create_collection(owner=owner, name="Matrix picks", visibility="public")
    item, _ = add_item(collection=collection, by=owner, target=find_target(owner, "model", model.id))
    key, _ = create_api_key(user=owner, name="matrix")
    comment = comments.post_comment(other, comments.find_target(other, "model", model.id), "Nice work")
    own_comment = comments.post_comment(owner, comments.find_target(owner, "model", model.id), "Thanks")
    follow, _ = follows.follow(follower=owner, target={"creator": other})
    notifications.notify(owner, "comment", actor=other, key=f"matrix-{comment.id}", model=model)
    note = Notification.objects.filter(recipient=owner).latest("id")
    goal = funding.open_goal(
        user=owner,
        model=model,
        title="Train v3",
        description="",
        target=5000,
        deadline=timezone.now() + timedelta(days=30),
    )
    plan = billing_services.create_plan(
        name="Pro", stripe_price_id="price_matrix", amount=500, currency="usd", interval="month"
    )
    action = moderation_services.act(
        moderator=moderator,
        target_type="model",
        target_id=model.id,
        action="relabel",
        reason="Matrix",
        level=1,
    )
    appeal = moderation_services.appeal(user=owner, action_id=action.id, statement="Please look again")
    claim = file_claim(
        target_type="model",
        target_id=model.id,
        claimant_name="Claire Mant",
        claimant_email="claire@example.com",
        work="My painting",
        statement="It copies my painting",
        signature="Claire Mant",
        good_faith=True,
        accurate=True,
    )
    users = {"owner": owner, "other": other, "moderator": moderator, "admin": admin}
    kwargs = {
        "pk": model.id,
        "model_id": model.id,
        "slug": model.slug,
        "version_id": version.id,
        "file_id": model_file.id,
        "sha256": model_file.blob.sha256,
        "hash": model_file.blob.sha256,
        "name": model_file.name,
        "filename": model_file.name,
        "image_id": image.id,
        "post_id": post.id,
        "collection_id": collection.id,
        "item_id": item.id,
        "item_type": "model",
        "key_id": key.id,
        "comment_id": own_comment.id,
        "notification_id": note.id,
        "follow_id": follow.id,
        "target_type": "model",
        "target_id": model.id,
        "username": owner.username,
        "plan_id": plan.id,
        "goal_id": goal.id,
        "parent_id": version.id,
        "action_id": action.id,
        "appeal_id": appeal.id,
        "claim_id": claim.id,
        "part_number": 1,
        "token": "not-a-signed-token",
        "tag": "tiny",
        "namespace": owner.username,
        "revision": "main",
        "path": "x",
        "key": "not-a-key",
        "uidb36": "1",
        "object_id": str(model.id),
        "app_label": "models_app",
        "content_type_id": "1",
        "url": "x/",
        "id": "1",
    }
    world = World(users=users, kwargs=kwargs)
    world.upload = upload
    world.model, world.version, world.second = model, version, second
    world.others_comment = comment
    return world


def iter_patterns(resolver=None, prefix="", namespace=""):
    """(route, URL name, view callback, pattern) for every pattern of the URL conf, nested includes
    and namespaces followed."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            ns = namespace
            if pattern.namespace:
                ns = f"{namespace}{pattern.namespace}:"
            yield from iter_patterns(pattern, prefix + str(pattern.pattern), ns)
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), f"{namespace}{pattern.name or ''}", pattern.callback, pattern
