"""`manage.py seed_demo`: the content a newcomer sees after `make run`, from every app.

It lives in hub/ because it spans the apps (models from models_app, the moderator role from
moderation); the apps themselves never import upwards.
"""

import hashlib
import io
import json
import zipfile

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from community import comments, lineage
from community.models import LineageRejection
from models_app import demo, services
from models_app.models import AIModel, FileType, ModelFile, ModelType, ModelVersion
from models_app.tasks import process_file
from moderation.roles import grant_moderator
from resources import images as resources_images
from resources.models import Post
from resources.tasks import process_image

# Well-known passwords, for DEBUG only: a newcomer can log in right after `make run`.
DEV_PASSWORDS = {"demo": "demo-creator-pw", "moderator": "demo-moderator-pw", "artist": "demo-artist-pw"}

DEMO_MODELS = [
    {
        "name": "Tiny Watercolor",
        "type": ModelType.LORA,
        "tags": ["style", "watercolor", "painting"],
        "description": (
            "A **watercolor** style LoRA, trained on 24 of my own paintings.\n\n"
            "* Weight 0.6 to 0.9 works best\n* Pairs well with soft lighting prompts\n\n"
            "Use the trigger word `tinywatercolor`."
        ),
        "versions": [
            {
                "name": "v1.0",
                "base_model": "SD 1.5",
                "trained_words": ["tinywatercolor"],
                "description": "First release.",
                "files": [("tiny-watercolor.safetensors", demo.tiny_lora)],
                "images": [
                    (
                        "watercolor-hills.png",
                        lambda: demo.example_image(
                            (118, 167, 214), (244, 196, 160), prompt="tinywatercolor, rolling hills at dawn"
                        ),
                    ),
                ],
            }
        ],
    },
    {
        "name": "Tiny Realism",
        "type": ModelType.CHECKPOINT,
        "tags": ["photorealistic", "base model"],
        "description": "A general-purpose **photorealistic** checkpoint.\n\nRecommended: 25 steps, CFG 6.",
        "versions": [
            {
                "name": "v1.0",
                "base_model": "SD 1.5",
                "trained_words": [],
                "description": "Pruned fp16 release.",
                "recommended_vae": ("Tiny VAE", "v1.0"),
                "files": [("tiny-realism-fp16.safetensors", demo.tiny_checkpoint)],
                "images": [
                    (
                        "realism-dusk.png",
                        lambda: demo.example_image(
                            (28, 42, 84), (226, 110, 76), prompt="photo of a mountain lake at dusk, 35mm"
                        ),
                    ),
                ],
            }
        ],
    },
    {
        "name": "Tiny VAE",
        "type": ModelType.VAE,
        "tags": ["vae", "utility"],
        "description": "A VAE with slightly warmer colours. Put it in `models/VAE`.",
        "versions": [
            {
                "name": "v1.0",
                "base_model": "SD 1.5",
                "trained_words": [],
                "description": "",
                "files": [("tiny-vae.safetensors", demo.tiny_vae)],
            }
        ],
    },
    {
        "name": "Tiny Dream Mix",
        "type": ModelType.CHECKPOINT,
        "tags": ["merge", "photorealistic"],
        "description": "A merge: 70% Tiny Realism, 30% a dreamier checkpoint. Its file says so (docs/lineage.md).",
        "versions": [
            {
                "name": "v1.0",
                "base_model": "SD 1.5",
                "trained_words": [],
                "description": "",
                "files": [("tiny-dream-mix.safetensors", lambda: _merged_checkpoint())],
            }
        ],
    },
]


def _merged_checkpoint() -> bytes:
    """A checkpoint whose A1111 merge recipe names Tiny Realism's file by SHA-256, so the worker
    proposes it as a parent (merge_of, weight 0.7) for the demo creator to confirm."""
    base = demo.tiny_checkpoint()
    length = int.from_bytes(base[:8], "little")
    header = json.loads(base[8 : 8 + length])
    header.pop("__metadata__", None)
    recipe = {
        "type": "webui",
        "primary_model_hash": hashlib.sha256(base).hexdigest(),
        "secondary_model_hash": hashlib.sha256(b"a checkpoint not on this hub").hexdigest(),
        "interp_method": "Weighted sum",
        "multiplier": 0.3,
    }
    data = bytes(reversed(base[8 + length :]))  # other tensor values than Tiny Realism's
    tensors = [
        (name, info["dtype"], info["shape"], data[info["data_offsets"][0] : info["data_offsets"][1]])
        for name, info in sorted(header.items(), key=lambda item: item[1]["data_offsets"][0])
    ]
    return demo.make_safetensors(tensors, {"format": "pt", "sd_merge_recipe": json.dumps(recipe)})


def _wildcard_pack() -> bytes:
    """A small wildcard pack (docs/wildcards.md): folders are nested names, one list uses another."""
    files = {
        "animal.txt": "# what the picture shows\ncat\nred fox\nbarn owl\nhare\n",
        "style/paint.txt": "watercolor\ngouache\nink wash\n",
        "style/light.txt": "soft morning light\ngolden hour\noverhead sun\n",
        "scene.txt": "a __animal__ in a meadow\na {sleeping|curious} __animal__ by a river\n",
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


DEMO_MODELS.append(
    {
        "name": "Meadow Wildcards",
        "type": ModelType.WILDCARDS,
        "tags": ["wildcards", "animals"],
        "description": "Wildcards for Dynamic Prompts. Try `__scene__, __style/paint__, __style/light__`.",
        "versions": [
            {
                "name": "v1.0",
                "base_model": "Other",
                "trained_words": [],
                "description": "",
                "files": [("meadow-wildcards.zip", _wildcard_pack)],
            }
        ],
    }
)


def _demo_workflow() -> bytes:
    """A small ComfyUI text-to-image graph (UI format 0.4, docs/workflows.md) that loads the demo
    checkpoint and LoRA by file name, so its page links both."""

    def node(id, type, pos, size, widgets, inputs=(), outputs=()):
        return {
            "id": id, "type": type, "pos": pos, "size": size, "flags": {}, "mode": 0, "properties": {},
            "inputs": [{"name": n, "type": t, "link": link} for n, t, link in inputs],
            "outputs": [{"name": n, "type": t, "links": links} for n, t, links in outputs],
            "widgets_values": widgets,
        }  # fmt: skip

    nodes = [
        node(1, "CheckpointLoaderSimple", [20, 200], [300, 100], ["tiny-realism-fp16.safetensors"],
             outputs=[("MODEL", "MODEL", [1]), ("CLIP", "CLIP", [2]), ("VAE", "VAE", [9])]),
        node(2, "LoraLoader", [360, 200], [300, 130], ["tiny-watercolor.safetensors", 0.8, 0.8],
             inputs=[("model", "MODEL", 1), ("clip", "CLIP", 2)],
             outputs=[("MODEL", "MODEL", [3]), ("CLIP", "CLIP", [4, 5])]),
        node(3, "CLIPTextEncode", [700, 60], [320, 120], ["tinywatercolor, a lighthouse at dusk"],
             inputs=[("clip", "CLIP", 4)], outputs=[("CONDITIONING", "CONDITIONING", [6])]),
        node(4, "CLIPTextEncode", [700, 220], [320, 120], ["blurry, lowres"],
             inputs=[("clip", "CLIP", 5)], outputs=[("CONDITIONING", "CONDITIONING", [7])]),
        node(5, "EmptyLatentImage", [700, 380], [320, 110], [512, 768, 1],
             outputs=[("LATENT", "LATENT", [8])]),
        node(6, "KSampler", [1060, 120], [300, 260], [42, "fixed", 25, 6, "euler_ancestral", "karras", 1],
             inputs=[("model", "MODEL", 3), ("positive", "CONDITIONING", 6), ("negative", "CONDITIONING", 7),
                     ("latent_image", "LATENT", 8)],
             outputs=[("LATENT", "LATENT", [10])]),
        node(7, "VAEDecode", [1400, 120], [200, 60], [],
             inputs=[("samples", "LATENT", 10), ("vae", "VAE", 9)], outputs=[("IMAGE", "IMAGE", [11])]),
        node(8, "SaveImage", [1640, 120], [260, 280], ["lighthouse"], inputs=[("images", "IMAGE", 11)]),
    ]  # fmt: skip
    links = [
        [1, 1, 0, 2, 0, "MODEL"], [2, 1, 1, 2, 1, "CLIP"], [3, 2, 0, 6, 0, "MODEL"], [4, 2, 1, 3, 0, "CLIP"],
        [5, 2, 1, 4, 0, "CLIP"], [6, 3, 0, 6, 1, "CONDITIONING"], [7, 4, 0, 6, 2, "CONDITIONING"],
        [8, 5, 0, 6, 3, "LATENT"], [9, 1, 2, 7, 1, "VAE"], [10, 6, 0, 7, 0, "LATENT"], [11, 7, 0, 8, 0, "IMAGE"],
    ]  # fmt: skip
    workflow = {
        "last_node_id": 8, "last_link_id": 11, "nodes": nodes, "links": links,
        "groups": [{"id": 1, "title": "Prompts", "bounding": [680, 20, 360, 490], "color": "#3f789e"}],
        "config": {}, "extra": {}, "version": 0.4,
    }  # fmt: skip
    return json.dumps(workflow, indent=1).encode()


DEMO_MODELS.append(
    {
        "name": "Lighthouse Workflow",
        "type": ModelType.WORKFLOWS,
        "tags": ["workflow", "comfyui"],
        "description": "A ComfyUI text-to-image workflow with the Tiny Realism checkpoint and the Tiny Watercolor LoRA.",
        "versions": [
            {
                "name": "v1.0",
                "base_model": "SD 1.5",
                "trained_words": [],
                "description": "",
                "files": [("lighthouse-workflow.json", _demo_workflow)],
            }
        ],
    }
)


class Command(BaseCommand):
    help = "Create the demo creator, a moderator and demo models with real small files. Safe to run again."

    def handle(self, **options):
        creator = self._user("demo", "demo@example.com")
        moderator = self._user("moderator", "moderator@example.com")
        grant_moderator(user=moderator)
        for spec in DEMO_MODELS:
            self._model(creator, spec)
        self._recommend_vaes(creator)
        self._lineage(creator)
        artist = self._user("artist", "artist@example.com")
        self._community_post(artist)
        self._demo_comments(creator, artist)
        self._collection_and_bio(creator, artist)
        self._funding_goal(creator)
        self._demo_report(creator, artist)

    def _demo_report(self, creator, artist):
        """One open report in the moderation queue (docs/moderation.md#reports), so the demo moderator
        has something to decide. Made once."""
        from moderation import services as moderation_services
        from moderation.models import Report

        model = AIModel.objects.filter(owner=creator, name="Tiny Realism").first()
        if model is None or Report.objects.exists():
            return
        moderation_services.report(
            reporter=artist,
            target_type="model",
            target_id=model.id,
            reason="mislabelled_level",
            details="Demo report: the example image looks PG-13 to me, not PG.",
        )
        self.stdout.write("a report waits in the moderation queue at /moderation/")

    def _funding_goal(self, creator):
        """An open crowdfunding goal on Tiny Watercolor (docs/billing.md#crowdfunding-goals), so the
        model page shows its progress bar; with no Stripe keys nobody is offered to pay. Made once."""
        from datetime import timedelta

        from django.utils import timezone

        from models_app import funding
        from models_app.models import FundingGoal

        model = AIModel.objects.filter(owner=creator, name="Tiny Watercolor").first()
        if model is None or FundingGoal.objects.filter(model=model).exists():
            return
        funding.open_goal(
            user=creator,
            model=model,
            title="Train the SDXL version",
            description="GPU time for an SDXL edition of Tiny Watercolor, trained on the same 40 paintings.",
            target=50_000,
            deadline=timezone.now() + timedelta(days=30),
        )
        self.stdout.write("crowdfunding goal opened on Tiny Watercolor")

    def _collection_and_bio(self, creator, artist):
        """A bio on the demo creator's profile, and the artist's public collection of the demo models
        (docs/collections.md) with one favourite, so cards show a like. Skipped once made."""
        from community import collections, profiles
        from community.models import Collection, Profile

        if not Profile.objects.filter(user=creator).exists():
            bio = "I publish **tiny demo models** for trying the hub. Every file is real and small."
            profiles.update_profile(user=creator, changes={"bio": bio, "links": ["https://example.com/"]})
        if Collection.objects.filter(owner=artist, is_favorites=False).exists():
            return
        picks = collections.create_collection(
            owner=artist, name="Artist's picks", description="The demo models I paint with."
        )
        for model in AIModel.objects.filter(owner=creator, name__in=[m["name"] for m in DEMO_MODELS]):
            collections.add_item(collection=picks, by=artist, target={"model": model})
            if model.name == "Tiny Watercolor":
                collections.set_favourite(user=artist, target={"model": model}, on=True)
        self.stdout.write(f"collection created at /collections/{picks.id}")

    @transaction.atomic
    def _community_post(self, artist):
        """A community image made with two demo models, its hashes naming them (so its page links
        them), in a post: the model pages show it under "Images made with this model"."""
        if Post.objects.filter(owner=artist).exists():
            self.stdout.write("community post already exists")
            return
        checkpoint = (
            ModelFile.objects.filter(
                version__model__name="Tiny Realism",
                version__model__owner__username="demo",
                type=FileType.MODEL,
            )
            .select_related("blob", "version")
            .first()
        )
        lora = (
            ModelFile.objects.filter(
                version__model__name="Tiny Watercolor",
                version__model__owner__username="demo",
                type=FileType.MODEL,
            )
            .select_related("blob", "version")
            .first()
        )
        if checkpoint is None or lora is None or checkpoint.blob is None or lora.blob is None:
            return
        settings_line = (
            f"Model hash: {checkpoint.blob.autov2.lower()}, "
            f'Lora hashes: "tinywatercolor: {lora.blob.sha256[:12].lower()}"'
        )
        content = demo.example_image(
            (60, 90, 140), (250, 220, 170),
            prompt="tinywatercolor, a lighthouse on a cliff, <lora:tinywatercolor:0.8>",
            extra_settings=settings_line,
        )  # fmt: skip
        post = resources_images.create_post(
            owner=artist,
            title="Lighthouse in watercolor",
            version_ids=[checkpoint.version_id, lora.version_id],
        )
        image = resources_images.add_image(
            owner=artist, name="lighthouse.png", content=io.BytesIO(content), post=post
        )
        process_image.apply(args=[image.id])  # ready now; the queued message then finds nothing to do
        self.stdout.write(f"community post created at /posts/{post.id}")

    @transaction.atomic
    def _demo_comments(self, creator, artist):
        """A short thread on Tiny Watercolor (docs/comments.md): a comment with a mention, the
        creator's reply, a reaction and the creator's pin."""
        model = AIModel.objects.filter(owner=creator, name="Tiny Watercolor").first()
        if model is None or model.comments.exists():
            return
        target = comments.find_target(creator, "model", model.id)
        first = comments.post_comment(
            artist, target, "Lovely soft washes! @demo, which weight do you use for skies?"
        )
        comments.post_comment(
            creator, target, "Around **0.7**; higher and the paper texture wins.", parent_id=first.id
        )
        comments.add_reaction(creator, first, "heart")
        comments.set_pinned(creator, first, target, True)
        self.stdout.write(f"demo comments added at {model.get_absolute_url()}#comments")

    def _user(self, username: str, email: str):
        User = get_user_model()
        user, created = User.objects.get_or_create(username=username, defaults={"email": email})
        if created:
            if settings.DEBUG:
                user.set_password(DEV_PASSWORDS[username])
            else:
                user.set_unusable_password()
            user.save()
            EmailAddress.objects.get_or_create(
                user=user, email=email, defaults={"verified": True, "primary": True}
            )
        if settings.DEBUG:
            self.stdout.write(f"user {username!r}, password {DEV_PASSWORDS[username]!r}")
        elif created:
            self.stdout.write(
                f"user {username!r} created; set a password with: manage.py changepassword {username}"
            )
        return user

    def _lineage(self, creator):
        """The demo LoRA was trained on the demo checkpoint (docs/lineage.md); declared once, and not
        again if the creator removed it."""
        lora = ModelVersion.objects.filter(model__owner=creator, model__name="Tiny Watercolor").first()
        base = ModelVersion.objects.filter(model__owner=creator, model__name="Tiny Realism").first()
        if lora is None or base is None or lora.parent_links.exists():
            return
        if LineageRejection.objects.filter(child=lora, parent=base).exists():
            return
        lineage.declare_parent(user=creator, child=lora, parent_id=base.id, relation="lora_of")
        self.stdout.write("Tiny Watercolor v1.0 is a LoRA of Tiny Realism v1.0")

    def _recommend_vaes(self, creator):
        """Link each demo version to the demo VAE it recommends, once the VAE is published (it is
        seeded after the models that recommend it). Also fills in the link on an older demo."""
        for spec in DEMO_MODELS:
            for v in spec["versions"]:
                if "recommended_vae" not in v:
                    continue
                vae_model, vae_version = v["recommended_vae"]
                vae = ModelVersion.objects.filter(
                    model__owner=creator, model__name=vae_model, name=vae_version
                ).first()
                version = ModelVersion.objects.filter(
                    model__owner=creator, model__name=spec["name"], name=v["name"], recommended_vae=None
                ).first()
                if vae is not None and version is not None:
                    services.update_version(version=version, by=creator, recommended_vae=vae)
                    self.stdout.write(f"{spec['name']} {v['name']} recommends {vae_model} {vae_version}")

    @transaction.atomic
    def _model(self, creator, spec):
        if AIModel.objects.filter(owner=creator, name=spec["name"]).exists():
            self.stdout.write(f"model {spec['name']!r} already exists")
            return
        model = services.create_model(
            owner=creator,
            name=spec["name"],
            type=spec["type"],
            description=spec["description"],
            tags=spec["tags"],
        )
        for v in spec["versions"]:
            version = services.create_version(
                model=model,
                name=v["name"],
                base_model=v["base_model"],
                trained_words=v["trained_words"],
                description=v["description"],
            )
            added = [
                services.add_file(version=version, name=filename, content=io.BytesIO(make_bytes()))
                for filename, make_bytes in v["files"]
            ] + [
                services.add_file(
                    version=version, name=filename, content=io.BytesIO(make_bytes()), type=FileType.IMAGE
                )
                for filename, make_bytes in v.get("images", [])
            ]
            # The worker's own task, run here: a version is public only once its files passed their
            # checks, and the demo should be public the moment `make run` serves it. The messages
            # queued for the worker then find nothing left to do.
            for model_file in added:
                process_file.apply(args=[model_file.id])
            services.publish_version(version=version, by=creator)
        self.stdout.write(f"model {spec['name']!r} created at {model.get_absolute_url()}")
