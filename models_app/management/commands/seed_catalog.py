"""`manage.py seed_catalog --models 100000`: a large synthetic catalog for benchmarks.

Creators, models, versions, files and content blobs that look like CivitAI's catalog (names, type mix,
tags, base models, trigger words, skewed download counts, plausible file sizes, well-formed hashes),
written with bulk_create in batches (descriptions with their stored HTML, rendered as set_description
renders it). No file bytes are stored: every ContentBlob's storage_key points
at an object that does not exist, so downloads and file processing of seeded files fail. Use it for
listing, search and page benchmarks only, never on a hub with real users' files.

Everything is derived from --seed and the run's first creator number, so the same command on an
empty database gives the same catalog. A second run refuses unless --force is given; with --force it
appends: new creators (numbered after the highest existing `creatorNNNNN`) with their own models and
hashes, so nothing collides with the first run.
"""

import functools
import hashlib
import itertools
import math
import random
import re
import time
import zlib
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.text import slugify

from models_app import cards
from models_app.models import (
    AIModel,
    BaseModel,
    ContentBlob,
    FileFormat,
    FileStatus,
    FileType,
    ModelFile,
    ModelType,
    ModelVersion,
    PublishStatus,
    ScanStatus,
    Tag,
)
from models_app.text import render_markdown

# Version notes repeat (a few dozen distinct texts over 300k versions): each is rendered once.
rendered_notes = functools.lru_cache(maxsize=1024)(render_markdown)

CREATOR_PREFIX = "creator"
CREATOR_RE = re.compile(rf"^{CREATOR_PREFIX}(\d+)$")
MODELS_PER_CREATOR = 20
SPAN = timedelta(days=3 * 365)
KB, MB, GB = 1024, 1024**2, 1024**3

# Roughly CivitAI's mix: LoRA and checkpoints dominate.
TYPE_WEIGHTS = {
    ModelType.LORA: 58,
    ModelType.CHECKPOINT: 17,
    ModelType.TEXTUAL_INVERSION: 7,
    ModelType.LOCON: 6,
    ModelType.DORA: 1.5,
    ModelType.CONTROLNET: 1.5,
    ModelType.VAE: 1,
    ModelType.HYPERNETWORK: 1,
    ModelType.UPSCALER: 1,
    ModelType.MOTION_MODULE: 0.5,
    ModelType.POSES: 1,
    ModelType.WILDCARDS: 1.5,
    ModelType.WORKFLOWS: 2,
    ModelType.DETECTION: 0.5,
    ModelType.AESTHETIC_GRADIENT: 0.2,
    ModelType.OTHER: 0.3,
}
# Types whose versions carry trigger words.
TRIGGERED = {
    ModelType.LORA,
    ModelType.LOCON,
    ModelType.DORA,
    ModelType.TEXTUAL_INVERSION,
    ModelType.HYPERNETWORK,
}
# Types shipped as an archive or JSON rather than a safetensors file.
ARCHIVE_TYPES = {ModelType.WILDCARDS, ModelType.WORKFLOWS, ModelType.POSES, ModelType.OTHER}
# Size range in bytes of the primary file (log-uniform in between).
SIZES = {
    ModelType.LORA: (10 * MB, 200 * MB),
    ModelType.LOCON: (20 * MB, 300 * MB),
    ModelType.DORA: (10 * MB, 200 * MB),
    ModelType.CHECKPOINT: (2 * GB, 7 * GB),
    ModelType.TEXTUAL_INVERSION: (4 * KB, 200 * KB),
    ModelType.HYPERNETWORK: (20 * MB, 180 * MB),
    ModelType.AESTHETIC_GRADIENT: (4 * KB, 100 * KB),
    ModelType.CONTROLNET: (700 * MB, 2500 * MB),
    ModelType.VAE: (80 * MB, 340 * MB),
    ModelType.UPSCALER: (10 * MB, 70 * MB),
    ModelType.MOTION_MODULE: (900 * MB, 1800 * MB),
    ModelType.DETECTION: (5 * MB, 140 * MB),
    ModelType.POSES: (200 * KB, 30 * MB),
    ModelType.WILDCARDS: (5 * KB, 2 * MB),
    ModelType.WORKFLOWS: (5 * KB, 500 * KB),
    ModelType.OTHER: (100 * KB, 100 * MB),
}
# Base model families, by how often they appear; families missing here weigh 1.
BASE_MODEL_WEIGHTS = {
    "SD 1.5": 30,
    "SDXL 1.0": 22,
    "Pony": 18,
    "Illustrious": 12,
    "Flux.1 D": 9,
    "SD 1.4": 1,
    "SD 2.1": 1.5,
    "SD 2.0": 0.5,
    "SDXL Turbo": 1,
    "SD 3": 0.5,
    "SD 3.5": 1.5,
    "Flux.1 S": 1,
    "Other": 1,
}

ADJECTIVES = (
    "Moody Dreamy Cinematic Vivid Ethereal Gritty Cozy Whimsical Dark Bright Soft Vintage Retro Futuristic "
    "Ancient Mystic Neon Pastel Golden Silver Crimson Azure Emerald Frozen Burning Misty Stormy Sunny Quiet "
    "Wild Elegant Brutal Gentle Hyper Ultra Mega Tiny Epic Lucid Surreal Hazy Glowing Shattered Velvet "
    "Electric Cosmic Rustic Urban Noble Feral Serene Chaotic Fluffy Crisp Detailed Minimal Bold Subtle"
).split()
SUBJECTS = (
    "Portraits|Landscapes|Cityscapes|Castles|Dragons|Knights|Witches|Robots|Mechs|Cats|Dogs|Foxes|Wolves|"
    "Owls|Flowers|Forests|Oceans|Mountains|Deserts|Spaceships|Interiors|Cafes|Streets|Ruins|Temples|"
    "Warriors|Elves|Samurai|Ninjas|Pirates|Vampires|Angels|Demons|Mermaids|Fairies|Cyborgs|Astronauts|"
    "Food|Cakes|Cars|Motorcycles|Trains|Armor|Dresses|Kimonos|Hoodies|Sneakers|Jewelry|Tattoos|Hairstyles|"
    "Eyes|Hands|Skies|Clouds|Sunsets|Snowscapes|Jungles|Islands|Villages|Libraries|Gardens|Monsters|"
    "Creatures|Insects|Birds|Horses|Butterflies|Mushrooms|Crystals|Potions|Weapons|Swords|Shields|Masks|"
    "Logos|Icons|Characters|Girls|Boys|Heroes|Villains|Chibi Figures|Furniture|Architecture|Bridges|Lighthouses"
).split("|")
STYLES = (
    "Watercolor|Oil Painting|Ink Sketch|Pixel Art|Anime|Photoreal|Concept Art|Line Art|Low Poly|Claymation|"
    "Papercut|Stained Glass|Ukiyo-e|Art Nouveau|Art Deco|Vaporwave|Synthwave|Cyberpunk|Steampunk|Dieselpunk|"
    "Gothic|Baroque|Impressionist|Cubist|Pop Art|Comic Book|Manga|Cel Shaded|3D Render|Isometric|Chalk|"
    "Pastel|Charcoal|Gouache|Mosaic|Embroidery|Origami|Neon Noir|Film Noir|Polaroid|Lomography|Double Exposure|"
    "Tilt Shift|Blueprint|Tarot Card|Sticker|Vector|Flat Design|Fantasy|Sci-Fi|Horror|Dark Fantasy|Storybook"
).split("|")
SUFFIXES = [
    "",
    "",
    "",
    "",
    "XL",
    "Style",
    "LoRA",
    "Mix",
    "v2",
    "Pro",
    "Plus",
    "Lite",
    "SDXL",
    "Pony",
    "Turbo",
]
# A fixed vocabulary of about 300 tags, like CivitAI's most used ones.
TAG_VOCABULARY = sorted(
    {
        *(s.lower() for s in STYLES),
        *(s.lower().removesuffix("s") for s in SUBJECTS),
        *(
            "character|style|concept|clothing|poses|background|object|vehicle|animal|building|base model|"
            "photography|photorealistic|realistic|semi-realistic|anime|cartoon|illustration|painting|"
            "digital art|traditional art|sketch|portrait|landscape|scenery|nature|city|interior|architecture|"
            "fantasy|sci-fi|horror|cute|sexy|woman|man|girl|boy|couple|group|celebrity|game character|"
            "video game|movie|tv|comics|meme|lighting|color|detail|tool|utility|slider|enhancer|quality|"
            "hands|face|eyes|hair|body|outfit|armor|uniform|swimwear|lingerie|dress|costume|accessory|hat|"
            "glasses|weapon|food|drink|flower|tree|sky|water|fire|ice|magic|space|planet|underwater|"
            "night|sunset|rain|snow|winter|summer|spring|autumn|halloween|christmas|valentine|japan|china|"
            "korea|europe|medieval|victorian|modern|futuristic|retro|vintage|1980s|1990s|y2k|monochrome|"
            "black and white|colorful|pastel colors|dark|bright|minimalist|abstract|surreal|psychedelic|"
            "mecha|robot|monster|creature|dragon|cat|dog|horse|bird|fish|insect|plant|car|motorcycle|"
            "aircraft|ship|train|weapon design|logo|icon|typography|text|pattern|texture|tileable|"
            "wallpaper|poster|album cover|book cover|card|tarot|sticker|emoji|chibi|figure|toy|doll|"
            "plush|sculpture|3d|render|blender|unreal engine|isometric|pixel|low poly|voxel|game asset|"
            "concept design|environment|prop|vfx|cinematic|film grain|bokeh|depth of field|hdr|"
            "macro|wide angle|aerial|drone|street photography|fashion|editorial|product|advertising|"
            "architecture photography|food photography|wildlife|pet|furry|fan art|genshin impact|pokemon|"
            "league of legends|final fantasy|star wars|marvel|dc|disney|ghibli|vtuber|idol|kpop|"
            "controlnet|openpose|depth|canny|upscaler|vae|embedding|negative embedding|workflow|comfyui|"
            "wildcards|motion|animatediff|video|detection|adetailer|inpainting|outpainting|merge|"
            "experimental|nsfw|sfw|safe|woman portrait|headshot|full body|close-up|action|dynamic pose"
        ).split("|"),
    }
)
TYPE_TAGS = {
    ModelType.CHECKPOINT: "base model",
    ModelType.TEXTUAL_INVERSION: "embedding",
    ModelType.CONTROLNET: "controlnet",
    ModelType.VAE: "vae",
    ModelType.UPSCALER: "upscaler",
    ModelType.MOTION_MODULE: "animatediff",
    ModelType.WILDCARDS: "wildcards",
    ModelType.WORKFLOWS: "workflow",
    ModelType.POSES: "poses",
    ModelType.DETECTION: "detection",
}
LICENSES = [
    "CreativeML OpenRAIL-M",
    "CreativeML OpenRAIL++-M",
    "FLUX.1 [dev] Non-Commercial",
    "Apache 2.0",
    "",
]
DESCRIPTION_SENTENCES = [
    "A {style} take on {subject}, trained on {n} hand-picked images.",
    "This {type} gives {subject} a {adj} {style} look without changing the composition.",
    "Works best at a weight of 0.{w} to 0.{w2}; higher values overpower the prompt.",
    "Recommended settings: {steps} steps, CFG {cfg}, DPM++ 2M Karras.",
    "Pairs well with soft lighting and {adj} color palettes.",
    "Trained for {epochs} epochs on {base}; other families may need a lower weight.",
    "Use the trigger word in the first part of your prompt for the strongest effect.",
    "Feedback and example images are very welcome; tag them so I can see what you make.",
    "Please do not use this to make images of real people without their consent.",
    "Version notes are on each version; the newest one fixes washed-out colors.",
    "Upscale with a 4x model and a denoise around 0.35 for crisp details.",
    "It is light on faces, so add a detailer pass if you render full-body shots.",
]
VERSION_NOTES = [
    "First release.",
    "Retrained on a cleaner dataset; fewer artifacts.",
    "Better hands and more consistent colors.",
    "Trained on {base}. Lower the weight if images look overbaked.",
    "Fixed the washed-out look of the previous version.",
    "Smaller file, same results: pruned and converted to fp16.",
    "",
]


def _fake_hashes(key: str, safetensors: bool) -> dict:
    """Deterministic, well-formed, uppercase hashes for a file that does not exist."""
    data = key.encode()
    wide = hashlib.sha512(data).hexdigest().upper()
    sha256 = wide[:64]
    return {
        "sha256": sha256,
        "blake3": wide[64:],
        "autov1": hashlib.md5(data, usedforsecurity=False).hexdigest().upper()[:8],
        "crc32": f"{zlib.crc32(data):08X}",
        "autov3": hashlib.sha256(data + b":autov3").hexdigest().upper() if safetensors else None,
        "storage_key": ContentBlob.key_for(sha256),
    }


def _log_uniform(rng: random.Random, lo: int, hi: int) -> int:
    return int(math.exp(rng.uniform(math.log(lo), math.log(hi))))


def _engagement(rng: random.Random, downloads: int) -> dict:
    """Reactions in proportion to downloads: a few percent like or rate a model, fewer comment."""
    up = int(downloads * rng.uniform(0.02, 0.12))
    down = int(up * rng.uniform(0, 0.08))
    return {
        "thumbs_up_count": up,
        "thumbs_down_count": down,
        "like_count": int(downloads * rng.uniform(0.01, 0.08)),
        "comment_count": int(downloads * rng.uniform(0.0005, 0.004)),
        "rating": up / (up + down) if up + down else 0.0,
    }


def _downloads(rng: random.Random) -> int:
    """Zipf-like: most models get tens to hundreds of downloads, a few get millions."""
    return min(5_000_000, int(120 * (rng.paretovariate(0.85) - 1) ** 1.15))


class Command(BaseCommand):
    help = (
        "Create a large synthetic catalog (creators, models, versions, files, blobs) for benchmarks. "
        "No file bytes are stored: blob storage keys point nowhere, so seeded files cannot be downloaded "
        "or processed. Refuses to run when seeded creators exist unless --force, which appends new "
        "creators and models."
    )

    def add_arguments(self, parser):
        parser.add_argument("--models", type=int, default=1000, help="How many models to create.")
        parser.add_argument("--seed", type=int, default=1, help="Random seed; same seed, same catalog.")
        parser.add_argument("--batch", type=int, default=5000, help="Models per transaction.")
        parser.add_argument(
            "--force", action="store_true", help="Append another catalog when seeded creators already exist."
        )

    def handle(self, *, models: int, seed: int, batch: int, force: bool, **options):
        if models < 1 or batch < 1:
            raise CommandError("--models and --batch must be at least 1.")
        started = time.monotonic()
        User = get_user_model()
        existing = [
            int(m.group(1))
            for name in User.objects.filter(username__startswith=CREATOR_PREFIX).values_list(
                "username", flat=True
            )
            if (m := CREATOR_RE.match(name))
        ]
        if existing and not force:
            raise CommandError(
                f"A seeded catalog already exists ({len(existing)} {CREATOR_PREFIX}NNNNN users). "
                "Run with --force to append more, or use an empty database."
            )
        base_models = {b.name: b.id for b in BaseModel.objects.all()}
        if not base_models:
            raise CommandError("The BaseModel table is empty; run `manage.py migrate` first.")

        first = max(existing) + 1 if existing else 0
        rng = random.Random(f"{seed}:{first}")
        self.now = timezone.now()
        self.seed, self.first = seed, first
        self.base_names = list(base_models)
        self.base_ids = base_models
        self.base_cum = list(
            itertools.accumulate(BASE_MODEL_WEIGHTS.get(name, 1) for name in self.base_names)
        )
        self.type_names = list(TYPE_WEIGHTS)
        self.type_cum = list(itertools.accumulate(TYPE_WEIGHTS.values()))
        # Counters other than downloads, filled when the model has them.
        self.counters = {f.name for f in AIModel._meta.concrete_fields} & set(_engagement(rng, 0))

        n_creators = max(1, math.ceil(models / MODELS_PER_CREATOR))
        creator_ids = self._creators(rng, first, n_creators)
        self.tag_ids = self._tags()
        self.stdout.write(f"{n_creators} creators and {len(self.tag_ids)} tags ready ({self._t(started)})")

        # A few creators make many models, most make a handful (weights 1/(rank+5)^0.7).
        owner_cum = list(itertools.accumulate(1 / (k + 5) ** 0.7 for k in range(n_creators)))
        owners = rng.choices(creator_ids, cum_weights=owner_cum, k=models)
        self.slugs: dict[int, set[str]] = {}
        totals = dict.fromkeys(("models", "versions", "files", "tags"), 0)
        for start in range(0, models, batch):
            with transaction.atomic():
                counts = self._batch(rng, owners[start : start + batch], start)
            for key, value in counts.items():
                totals[key] += value
            done = min(models, start + batch)
            self.stdout.write(
                f"{done}/{models} models, {totals['versions']} versions, {totals['files']} files "
                f"({self._t(started)})"
            )
        if connection.vendor == "postgresql":  # fresh statistics, so the planner uses the new indexes
            with connection.cursor() as cursor:
                # refresh_card_fields analyzes the tables it reads itself, before its UPDATE.
                for model in (get_user_model(), ContentBlob, ModelFile):
                    cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
        filled = time.monotonic()
        cards.refresh_card_fields()  # the tag and base-model copies that lists read
        self.stdout.write(f"Card copies filled in {self._t(filled)} ({self._t(started)})")
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {totals['models']} models, {totals['versions']} versions, {totals['files']} files "
                f"and blobs, {totals['tags']} model tags for {n_creators} creators in {self._t(started)}. "
                "No file bytes were stored."
            )
        )

    @staticmethod
    def _t(started: float) -> str:
        return f"{time.monotonic() - started:.1f} s"

    def _creators(self, rng: random.Random, first: int, n: int) -> list[int]:
        User = get_user_model()
        password = make_password(None)  # one unusable hash for everyone
        names = [f"{CREATOR_PREFIX}{first + i:05d}" for i in range(n)]
        users = [
            User(
                username=name,
                email=f"{name}@example.com",
                password=password,
                date_joined=self.now - SPAN - timedelta(days=rng.uniform(0, 365)),
            )
            for name in names
        ]
        with transaction.atomic():
            User.objects.bulk_create(users, batch_size=2000)
        ids = dict(User.objects.filter(username__in=names).values_list("username", "id"))
        return [ids[name] for name in names]

    @staticmethod
    def _tags() -> dict[str, int]:
        Tag.objects.bulk_create([Tag(name=name) for name in TAG_VOCABULARY], ignore_conflicts=True)
        return dict(Tag.objects.filter(name__in=TAG_VOCABULARY).values_list("name", "id"))

    def _slug(self, owner_id: int, name: str) -> str:
        taken = self.slugs.setdefault(owner_id, set())
        base = slugify(name)[:180] or "model"
        slug, n = base, 2
        while slug in taken:
            slug, n = f"{base}-{n}", n + 1
        taken.add(slug)
        return slug

    def _batch(self, rng: random.Random, owners: list[int], offset: int) -> dict[str, int]:
        now = self.now
        models, tag_lists, versions, version_plans = [], [], [], []
        for i, owner_id in enumerate(owners):
            number = offset + i
            mtype = rng.choices(self.type_names, cum_weights=self.type_cum)[0]
            adj, subject, style = rng.choice(ADJECTIVES), rng.choice(SUBJECTS), rng.choice(STYLES)
            pattern = rng.random()
            if mtype == ModelType.CHECKPOINT and pattern < 0.4:
                name = f"{adj}{style.split()[0].replace('-', '')} Mix"
            elif pattern < 0.5:
                name = f"{adj} {style} {subject}"
            elif pattern < 0.8:
                name = f"{style} {subject}"
            else:
                name = f"{adj} {subject}"
            name = f"{name} {rng.choice(SUFFIXES)}".strip()
            base_name = rng.choices(self.base_names, cum_weights=self.base_cum)[0]
            roll = rng.random()
            if roll < 0.95:
                status = PublishStatus.PUBLISHED
            elif roll < 0.97:
                status = PublishStatus.DRAFT
            elif roll < 0.99:
                status = PublishStatus.UNPUBLISHED
            else:
                status = PublishStatus.ARCHIVED
            published_at = None if status == PublishStatus.DRAFT else now - SPAN * rng.random()
            start = published_at or now - SPAN * rng.random()
            created_at = start - timedelta(hours=rng.uniform(0.1, 14 * 24))

            tags = {TYPE_TAGS.get(mtype) or rng.choice(("style", "character", "concept", "clothing"))}
            for word in (style.lower(), subject.lower().removesuffix("s")):
                if word in self.tag_ids and rng.random() < 0.6:
                    tags.add(word)
            wanted = rng.randint(1, 5)
            while len(tags) < wanted:
                tags.add(rng.choice(TAG_VOCABULARY))
            tags = sorted(tags)[:5]
            nsfw = rng.random() < 0.10
            if nsfw and "nsfw" not in tags and len(tags) < 5:
                tags.append("nsfw")
            tag_lists.append(tags)

            description = " ".join(
                s.format(
                    style=style.lower(),
                    subject=subject.lower(),
                    adj=adj.lower(),
                    type=mtype.label,
                    n=rng.randint(20, 400),
                    w=rng.randint(4, 6),
                    w2=rng.randint(7, 9),
                    steps=rng.choice((20, 25, 30, 35)),
                    cfg=rng.choice((3.5, 5, 6, 7)),
                    epochs=rng.randint(6, 30),
                    base=base_name,
                )
                for s in rng.sample(DESCRIPTION_SENTENCES, rng.randint(2, 5))
            )
            slug = self._slug(owner_id, name)

            # Versions: 1-5, the first at the model's publication, later ones spread towards today.
            n_versions = rng.randint(1, 5)
            model_downloads = _downloads(rng) if status != PublishStatus.DRAFT else 0
            shares = list(range(1, n_versions + 1))  # newer versions get more of the downloads
            times = [start, *sorted(start + (now - start) * rng.random() ** 2 for _ in range(n_versions - 1))]
            scheme = rng.randrange(4)
            trigger = re.sub(r"[^a-z0-9]", "", f"{adj}{style}".lower())[:24]
            total_downloads = 0
            for v in range(n_versions):
                if scheme == 0:
                    vname = f"v{v + 1}.0"
                elif scheme == 1:
                    vname = f"v{v + 1}"
                elif scheme == 2:
                    vname = f"V{v + 1}.{rng.randrange(10)}"
                else:
                    vname = f"{('Alpha', 'Beta', 'Release', 'Final', 'Plus')[v]} {v + 1}"
                vbase = base_name
                if v and rng.random() < 0.15:
                    vbase = rng.choices(self.base_names, cum_weights=self.base_cum)[0]
                if status == PublishStatus.DRAFT or (v and v == n_versions - 1 and rng.random() < 0.05):
                    vstatus, vpublished = PublishStatus.DRAFT, None  # the next version, in preparation
                else:
                    vstatus, vpublished = PublishStatus.PUBLISHED, times[v]
                words = []
                if mtype in TRIGGERED:
                    extra = [subject.lower(), f"{trigger} style", "masterpiece", f"{trigger}{v + 1}"]
                    words = [trigger, *rng.sample(extra, rng.randint(0, 2))]
                downloads = model_downloads * shares[v] // sum(shares) if vpublished else 0
                total_downloads += downloads
                vcreated = times[v] - timedelta(minutes=rng.uniform(5, 600))
                notes = rng.choice(VERSION_NOTES).format(base=vbase)
                versions.append(
                    ModelVersion(
                        name=vname,
                        base_model_id=self.base_ids[vbase],
                        trained_words=words,
                        description=notes,
                        description_html=rendered_notes(notes),
                        status=vstatus,
                        created_at=vcreated,
                        published_at=vpublished,
                        download_count=downloads,
                    )
                )
                version_plans.append((i, number, v, mtype, slug, vcreated))

            models.append(
                AIModel(
                    owner_id=owner_id,
                    name=name[:200],
                    slug=slug,
                    type=mtype,
                    description=description,
                    description_html=render_markdown(description),  # about 0.15 ms each
                    nsfw_level=4 if nsfw else 1,  # R: mature, as CivitAI hides it by default
                    status=status,
                    license=rng.choice(LICENSES),
                    allow_commercial_sell=rng.random() < 0.2,
                    allow_commercial_rent=rng.random() < 0.7,
                    allow_derivatives=rng.random() < 0.9,
                    created_at=created_at,
                    published_at=published_at,
                    download_count=total_downloads,
                    **{k: v for k, v in _engagement(rng, total_downloads).items() if k in self.counters},
                )
            )

        AIModel.objects.bulk_create(models, batch_size=1000)
        Through = AIModel.tags.through
        throughs = [
            Through(aimodel_id=model.id, tag_id=self.tag_ids[tag])
            for model, tags in zip(models, tag_lists, strict=True)
            for tag in tags
        ]
        Through.objects.bulk_create(throughs, batch_size=5000)
        for version, plan in zip(versions, version_plans, strict=True):
            version.model_id = models[plan[0]].id
        ModelVersion.objects.bulk_create(versions, batch_size=1000)

        blobs, files = [], []
        for version, (_i, number, v, mtype, slug, created) in zip(versions, version_plans, strict=True):
            for f, spec in enumerate(self._file_specs(rng, mtype, slug, v)):
                key = f"seed_catalog:{self.seed}:{self.first}:{number}:{v}:{f}"
                hashes = _fake_hashes(key, spec["format"] == FileFormat.SAFETENSOR)
                blobs.append(ContentBlob(size=spec["size"], created_at=created, **hashes))
                files.append(
                    ModelFile(
                        version_id=version.id,
                        status=FileStatus.READY,
                        scan_status=ScanStatus.CLEAN,
                        created_at=created,
                        processed_at=created,
                        scanned_at=created,
                        progress=100,
                        **spec,
                    )
                )
        ContentBlob.objects.bulk_create(blobs, batch_size=2000)
        for blob, file in zip(blobs, files, strict=True):
            file.blob_id = blob.id
        ModelFile.objects.bulk_create(files, batch_size=2000)
        return {"models": len(models), "versions": len(versions), "files": len(files), "tags": len(throughs)}

    def _file_specs(self, rng: random.Random, mtype: str, slug: str, v: int) -> list[dict]:
        """The files of one version: a primary file, then 0-3 extras (about one on average)."""
        lo, hi = SIZES[mtype]
        stem = f"{slug[:60]}-v{v + 1}"
        size = _log_uniform(rng, lo, hi)
        if mtype in ARCHIVE_TYPES:
            ext = ".json" if mtype == ModelType.WORKFLOWS else ".zip"
            primary = {
                "name": stem + ext,
                "type": FileType.WORKFLOW if mtype == ModelType.WORKFLOWS else FileType.ARCHIVE,
                "format": FileFormat.OTHER,
                "fp": "",
                "size_variant": "",
            }
        else:
            primary = {
                "name": f"{stem}.safetensors",
                "type": FileType.MODEL,
                "format": FileFormat.SAFETENSOR,
                "fp": "fp16",
                "size_variant": "pruned",
            }
        specs = [{**primary, "size": size, "is_primary": True}]
        n_extra = rng.choices((0, 1, 2, 3), weights=(30, 45, 20, 5))[0]
        if not n_extra:
            return specs
        extras = [
            {
                "name": f"{stem}.yaml" if mtype == ModelType.CHECKPOINT else f"{stem}_config.json",
                "type": FileType.CONFIG,
                "format": FileFormat.OTHER,
                "fp": "",
                "size_variant": "",
                "size": rng.randint(1 * KB, 20 * KB),
            },
            {
                "name": f"{stem}_training_data.zip",
                "type": FileType.TRAINING_DATA,
                "format": FileFormat.OTHER,
                "fp": "",
                "size_variant": "",
                "size": _log_uniform(rng, 5 * MB, 500 * MB),
            },
        ]
        if mtype not in ARCHIVE_TYPES:
            precision = rng.choice(("fp32", "bf16"))
            extras.append(
                {
                    "name": f"{stem}_{precision}_full.safetensors",
                    "type": FileType.MODEL,
                    "format": FileFormat.SAFETENSOR,
                    "fp": precision,
                    "size_variant": "full",
                    "size": size * (2 if precision == "fp32" else 1) + rng.randint(0, size // 4 + 1),
                }
            )
            if mtype == ModelType.CHECKPOINT:
                extras.append(
                    {
                        "name": f"{stem}_fp16.ckpt",
                        "type": FileType.PRUNED_MODEL,
                        "format": FileFormat.PICKLETENSOR,
                        "fp": "fp16",
                        "size_variant": "pruned",
                        "size": size + rng.randint(0, 64 * KB),
                    }
                )
        for spec in rng.sample(extras, min(n_extra, len(extras))):
            specs.append({**spec, "is_primary": False})
        return specs
