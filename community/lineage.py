"""Lineage, "a GitHub for models" (docs/lineage.md): which hub versions a version was made from.

The creator declares parents (confirmed at once); the worker proposes parents it reads from a file's
metadata (unconfirmed until the creator confirms; a rejected proposal is deleted and remembered so it
is never proposed again). Every write goes through the functions here: the model page, the version
edit page and the API (community/lineage_api.py) share them."""

import json
import logging
import math
import re
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from models_app import selectors
from models_app.models import FileStatus, FileType, ModelFile, ModelType, ModelVersion, PublishStatus

from .models import LineageRejection, LineageRelation, LineageSource, VersionParent
from .refusals import Refused

logger = logging.getLogger(__name__)

GRAPH_DEPTH = 3  # levels drawn above and below a version on the model page
GRAPH_WIDTH = 6  # versions drawn per level; the rest are counted ("and 4 more")
MAX_ANCESTRY = 5000  # versions walked when checking for a cycle before giving up (docs/lineage.md#cycles)
MAX_GENERATIONS = 100  # levels walked (one query each) before giving up
MAX_PROPOSALS = 20  # parents proposed from one file at most
EVIDENCE_LENGTH = 200
MAX_ID = 2**63 - 1  # larger ids can't be in a table, and SQLite refuses to bind them
EMPTY_AUTOV1 = "E3B0C442"  # the AutoV1 of every file of 1 MiB or less: names nothing (docs/hashes.md)

BASE_HASH_KEYS = {"ss_new_sd_model_hash", "ss_sd_model_hash"}
LORA_TYPES = {ModelType.LORA, ModelType.LOCON, ModelType.DORA}


class LineageRefused(Refused):
    """A lineage write refused: status and sentence (community/refusals.py)."""


# --- Reads with rules.


def visible_versions(user) -> QuerySet[ModelVersion]:
    """Every version `user` may see, across models: published versions of published models; the
    creator's own drafts and unpublished versions; all (but deleted) for moderators."""
    versions = ModelVersion.objects.exclude(status=PublishStatus.DELETED).filter(
        model__in=selectors.visible_models(user)
    )
    if selectors.can_moderate(user):
        return versions
    shown = Q(status=PublishStatus.PUBLISHED)
    if user.is_authenticated:
        shown |= Q(model__owner=user)
    return versions.filter(shown)


def shown_version(user, version_id) -> ModelVersion:
    """The version if `user` may see it, else Http404 (a draft is not confirmed to exist)."""
    if not 0 < version_id <= MAX_ID:
        raise Http404
    version = visible_versions(user).select_related("model").filter(id=version_id).first()
    if version is None:
        raise Http404
    return version


def owned_version(user, version_id) -> ModelVersion:
    """The version if `user` created it; 404 when they may not see it, 403 when they only see it."""
    version = shown_version(user, version_id)
    if version.model.owner_id != user.id:
        raise LineageRefused(403, _("Only the version's creator can change its parents."))
    return version


def _shown_links(user, links: QuerySet[VersionParent]) -> QuerySet[VersionParent]:
    """Confirmed links for everyone; a version's creator also sees the proposals about it."""
    if user.is_authenticated:
        return links.filter(Q(confirmed=True) | Q(child__model__owner=user))
    return links.filter(confirmed=True)


def lineage_of(user, version: ModelVersion) -> dict:
    """{"parents": [...], "children": [...]} as the API sends them: only links `user` may see, to
    versions `user` may see."""
    visible = visible_versions(user).values("id")
    parents = _shown_links(user, version.parent_links.filter(parent__in=visible))
    children = _shown_links(user, version.child_links.filter(child__in=visible))
    return {
        "parents": [link_json(link, link.parent_id, link.parent.model_id) for link in _ordered(parents)],
        "children": [link_json(link, link.child_id, link.child.model_id) for link in _ordered(children)],
    }


def _ordered(links):
    return links.select_related("parent", "child").order_by("created_at", "id")


def link_json(link: VersionParent, version_id: int, model_id: int) -> dict:
    return {
        "version_id": version_id,
        "model_id": model_id,
        "relation": link.relation,
        "weight": link.weight,
        "confirmed": link.confirmed,
        "source": link.source,
        "evidence": {"key": link.evidence_key, "value": link.evidence_value} if link.evidence_key else None,
    }


@dataclass
class Node:
    version: ModelVersion
    links: list = field(default_factory=list)  # the VersionParent rows joining it to the level nearer


@dataclass
class Graph:
    ancestors: list  # [level 1 (parents), level 2, ...], each a list of Node
    descendants: list  # [level 1 (children), ...]
    hidden_up: list  # per level: versions left out for width
    hidden_down: list


def lineage_graph(user, version: ModelVersion) -> Graph:
    """The versions around `version`, GRAPH_DEPTH levels up and down, GRAPH_WIDTH a level, each with
    the links that join it to the level nearer `version`. One query a level, whatever its width."""
    return lineage_graphs(user, [version])[version.id]


def lineage_graphs(user, versions) -> dict[int, Graph]:
    """lineage_graph of each of `versions` (a model page's), walked together: one query a level and
    direction for all of them, so the page's query count does not grow with its versions
    (docs/performance.md#the-model-page)."""
    roots = list(dict.fromkeys(v.id for v in versions))
    if not roots:
        return {}
    # Most versions have no lineage: one narrow query says which roots have a link each way, and
    # only those are walked (the walk's queries are wide, and costly to build, a few ms each).
    touching = VersionParent.objects.filter(Q(child_id__in=roots) | Q(parent_id__in=roots))
    has_parents, has_children = set(), set()
    for child_id, parent_id in touching.values_list("child_id", "parent_id"):
        has_parents.add(child_id)
        has_children.add(parent_id)
    visible = visible_versions(user).values("id")
    up = _walk(user, [r for r in roots if r in has_parents], visible, up=True)
    down = _walk(user, [r for r in roots if r in has_children], visible, up=False)
    graphs = {}
    for root in roots:
        (ancestors, hidden_up), (descendants, hidden_down) = up.get(root, ([], [])), down.get(root, ([], []))
        graphs[root] = Graph(ancestors, descendants, hidden_up, hidden_down)
    return graphs


def _walk(user, roots: list[int], visible, *, up: bool) -> dict[int, tuple[list, list]]:
    """Each root's (levels, hidden) one way. Every root keeps its own `seen` and frontier, exactly as
    if walked alone; only the queries are shared."""
    walks = {root: ([], [], {root}, [root]) for root in roots}  # levels, hidden, seen, frontier
    for _level in range(GRAPH_DEPTH):
        active = [walk for walk in walks.values() if walk[3]]
        if not active:
            break
        frontier_ids = sorted({vid for walk in active for vid in walk[3]})
        if up:
            links = VersionParent.objects.filter(child_id__in=frontier_ids, parent__in=visible)
        else:
            links = VersionParent.objects.filter(parent_id__in=frontier_ids, child__in=visible)
        links = list(
            _shown_links(user, links)
            .select_related("parent__model", "child__model")
            .order_by("-confirmed", "created_at", "id")
        )
        for levels, hidden, seen, frontier in active:
            near = set(frontier)
            nodes: dict[int, Node] = {}
            for link in links:
                if (link.child_id if up else link.parent_id) not in near:
                    continue
                other = link.parent if up else link.child
                if other.id in seen:
                    continue  # reached twice (a diamond): drawn at its nearest level only
                nodes.setdefault(other.id, Node(other)).links.append(link)
            if not nodes:
                frontier.clear()
                continue
            shown = list(nodes.values())[:GRAPH_WIDTH]
            levels.append(shown)
            hidden.append(len(nodes) - len(shown))
            seen.update(nodes)
            frontier[:] = [node.version.id for node in shown]
    return {root: (walk[0], walk[1]) for root, walk in walks.items()}


# --- Writes.


def _clean_weight(relation: str, weight) -> float | None:
    if weight is None or weight == "":
        return None
    if relation != LineageRelation.MERGE_OF:
        raise LineageRefused(400, _("Only a merge_of parent has a weight."))
    if isinstance(weight, bool):
        raise LineageRefused(400, _("The weight is a number from 0 to 1."))
    try:
        value = float(weight)
    except (TypeError, ValueError):
        raise LineageRefused(400, _("The weight is a number from 0 to 1.")) from None
    if not math.isfinite(value) or not 0 <= value <= 1:
        raise LineageRefused(400, _("The weight is a number from 0 to 1."))
    return value


def _ancestor_ids(version_id: int) -> set[int] | None:
    """Every version `version_id` descends from, through any link (proposed ones too: they may be
    confirmed later). None when the ancestry is larger than MAX_ANCESTRY versions or deeper than
    MAX_GENERATIONS levels."""
    seen: set[int] = set()
    frontier = {version_id}
    for _generation in range(MAX_GENERATIONS + 1):
        if not frontier:
            return seen
        parents = set(VersionParent.objects.filter(child_id__in=frontier).values_list("parent_id", flat=True))
        frontier = parents - seen
        seen |= frontier
        if len(seen) > MAX_ANCESTRY:
            return None
    return None if frontier else seen


def _would_cycle(child_id: int, parent_id: int) -> bool:
    if child_id == parent_id:
        return True
    ancestors = _ancestor_ids(parent_id)
    return ancestors is None or child_id in ancestors


def _lock(*version_ids: int) -> None:
    """Lock both versions in id order, so two opposite declarations (A from B, B from A) run one after
    the other and the second sees the first's row in its cycle check."""
    list(ModelVersion.objects.select_for_update().filter(id__in=version_ids).order_by("id").values("id"))


def declare_parent(
    *, user, child: ModelVersion, parent_id, relation: str, weight=None
) -> tuple[VersionParent, bool]:
    """The creator of `child` says it was made from version `parent_id`: creates the link confirmed,
    or replaces the relation and weight of an existing one (a proposal becomes confirmed). Returns the
    link and whether it is new. Repeating it changes nothing."""
    if child.model.owner_id != user.id:
        raise LineageRefused(403, _("Only the version's creator can change its parents."))
    if relation not in LineageRelation.values:
        raise LineageRefused(
            400,
            _("The relation must be one of: %(choices)s.") % {"choices": ", ".join(LineageRelation.values)},
        )
    weight = _clean_weight(relation, weight)
    if isinstance(parent_id, bool) or not isinstance(parent_id, int) or not 0 < parent_id <= MAX_ID:
        raise LineageRefused(400, _("Give the parent as a version id."))
    parent = visible_versions(user).filter(id=parent_id).first()
    if parent is None:
        raise LineageRefused(400, _("There is no hub version %(id)s that you can see.") % {"id": parent_id})
    if parent.id == child.id:
        raise LineageRefused(400, _("A version can't be its own parent."))
    with transaction.atomic():
        _lock(child.id, parent.id)
        ancestors = _ancestor_ids(parent.id)
        if ancestors is None:
            raise LineageRefused(
                400,
                _(
                    "Version %(parent)s has too long a lineage to check (over %(generations)s generations or %(versions)s versions)."
                )
                % {"parent": parent.id, "generations": MAX_GENERATIONS, "versions": MAX_ANCESTRY},
            )
        if child.id in ancestors:
            raise LineageRefused(
                400,
                _(
                    "Version %(parent)s already descends from version %(child)s: a version can't be its own ancestor."
                )
                % {"parent": parent.id, "child": child.id},
            )
        LineageRejection.objects.filter(child=child, parent=parent).delete()
        link = VersionParent.objects.select_for_update().filter(child=child, parent=parent).first()
        if link is None:
            link = VersionParent.objects.create(
                child=child, parent=parent, relation=relation, weight=weight, confirmed=True
            )
            return link, True
        link.relation, link.weight, link.confirmed = relation, weight, True
        link.save(update_fields=["relation", "weight", "confirmed"])
        return link, False


def _own_link(user, child: ModelVersion, parent_id) -> VersionParent:
    if child.model.owner_id != user.id:
        raise LineageRefused(403, _("Only the version's creator can change its parents."))
    link = None
    if 0 < parent_id <= MAX_ID:
        link = VersionParent.objects.filter(child=child, parent_id=parent_id).first()
    if link is None:
        raise LineageRefused(404, _("Version %(id)s is not a parent of this version.") % {"id": parent_id})
    return link


def confirm_parent(*, user, child: ModelVersion, parent_id) -> VersionParent:
    """The creator confirms a proposed parent; confirming twice is harmless."""
    link = _own_link(user, child, parent_id)
    VersionParent.objects.filter(id=link.id).update(confirmed=True)
    link.confirmed = True
    return link


def remove_parent(*, user, child: ModelVersion, parent_id) -> None:
    """Deletes the link (rejecting a proposal or removing a declared parent) and remembers it, so the
    worker never proposes it again; declaring it by hand later is still possible."""
    link = _own_link(user, child, parent_id)
    with transaction.atomic():
        link.delete()
        LineageRejection.objects.get_or_create(child=child, parent_id=link.parent_id)


def parse_version_ref(user, text: str) -> int | None:
    """A version id from what a creator typed: `123`, a model page URL with `#version-123` or
    `modelVersionId=123`, or a model page URL `/models/45` (its newest version `user` may see)."""
    text = (text or "").strip()[:500]
    if text.isdigit() and len(text) <= 18:
        return int(text)
    found = re.search(r"(?:#version-|modelVersionId=)(\d{1,18})", text)
    if found:
        return int(found.group(1))
    found = re.search(r"/models/(\d{1,18})", text)
    if found:
        newest = visible_versions(user).filter(model_id=int(found.group(1))).order_by("-created_at", "-id")
        return newest.values_list("id", flat=True).first()
    return None


def find_versions_named(user, text: str, *, limit: int = 6) -> list[ModelVersion]:
    """Versions `user` may see whose model name contains `text` (the parents form's search), newest
    model first; at most `limit`."""
    text = " ".join((text or "").split())[:100]
    if len(text) < 2:
        return []
    found = visible_versions(user).filter(model__name__icontains=text).select_related("model")
    return list(found.order_by("-model__created_at", "-created_at", "-id")[:limit])


# --- Inference from a file's metadata (the worker, after processing; docs/lineage.md#inference).


@dataclass
class Claim:
    relation: str
    key: str  # the metadata key, as written in the file
    value: str  # the value it was matched by (a hash or a file name)
    weight: float | None = None
    by_name: bool = False


def propose_parents_from_file(*, model_file: ModelFile) -> None:
    """models_app's file-finished hook: propose the parents the file's metadata names. Never raises:
    a file's metadata is written by anyone, and lineage must not fail the pipeline."""
    try:
        _propose(model_file)
    except Exception:  # hostile metadata must never fail processing; the file stays as it is
        logger.exception("Lineage inference failed for file %s", getattr(model_file, "id", None))


def _propose(model_file: ModelFile) -> None:
    if model_file.status != FileStatus.READY or model_file.type in (FileType.IMAGE, FileType.CONFIG):
        return
    metadata = model_file.metadata if isinstance(model_file.metadata, dict) else {}
    training = metadata.get("training")
    if not isinstance(training, dict):
        return
    child = ModelVersion.objects.select_related("model__owner").get(id=model_file.version_id)
    claims = read_claims(training, model_type=child.model.type, own_autov3=_own_autov3(model_file))
    if not claims:
        return
    owner = child.model.owner
    candidates = visible_versions(owner).exclude(id=child.id)
    proposed = 0
    base_found = False
    for claim in claims:
        if claim.by_name and base_found:
            continue  # the file name is only a fallback when the base's hashes matched nothing
        parent_id = _match(candidates, claim)
        if parent_id is None:
            continue
        base_found = base_found or claim.key in BASE_HASH_KEYS
        if _propose_one(child, parent_id, claim):
            proposed += 1
        if proposed >= MAX_PROPOSALS:
            break


def _own_autov3(model_file: ModelFile) -> str:
    blob = model_file.blob
    return (blob.autov3 or "") if blob else ""


def _propose_one(child: ModelVersion, parent_id: int, claim: Claim) -> bool:
    """One unconfirmed link, unless the pair is linked or rejected already or it would make a cycle."""
    if VersionParent.objects.filter(child=child, parent_id=parent_id).exists():
        return False
    if LineageRejection.objects.filter(child=child, parent_id=parent_id).exists():
        return False
    try:
        with transaction.atomic():
            _lock(child.id, parent_id)
            if _would_cycle(child.id, parent_id):
                return False
            VersionParent.objects.create(
                child=child,
                parent_id=parent_id,
                relation=claim.relation,
                weight=claim.weight if claim.relation == LineageRelation.MERGE_OF else None,
                confirmed=False,
                source=LineageSource.METADATA,
                evidence_key=claim.key[:100],
                evidence_value=claim.value[:EVIDENCE_LENGTH],
            )
    except IntegrityError:  # the same file processed twice at once: the other run proposed it
        return False
    return True


def _hex(value, *lengths) -> str | None:
    """The value as UPPERCASE hex without `0x`, if it is a string of one of `lengths` hex digits."""
    if not isinstance(value, str) or len(value) > 70:
        return None
    value = value.strip()
    if value[:2].lower() == "0x":
        value = value[2:]
    value = value.upper()
    if len(value) in lengths and re.fullmatch(r"[0-9A-F]+", value):
        return value
    return None


def _base_relation(model_type: str, architecture: str) -> str:
    architecture = architecture.lower() if isinstance(architecture, str) else ""
    if model_type in LORA_TYPES or architecture.endswith(("/lora", "/lycoris")):
        return LineageRelation.LORA_OF
    return LineageRelation.FINETUNE_OF


def read_claims(training: dict, *, model_type: str, own_autov3: str = "") -> list[Claim]:
    """What the file's grouped metadata (models_app's `training` facts: kohya, modelspec, other) says
    it was made from, strongest evidence first. Pure: reads dicts of strings, tolerates anything."""
    kohya = training.get("kohya") if isinstance(training.get("kohya"), dict) else {}
    modelspec = training.get("modelspec") if isinstance(training.get("modelspec"), dict) else {}
    other = training.get("other") if isinstance(training.get("other"), dict) else {}
    base = _base_relation(model_type, modelspec.get("architecture"))
    claims: list[Claim] = []

    sha256 = _hex(kohya.get("ss_new_sd_model_hash"), 64)
    if sha256:
        claims.append(Claim(base, "ss_new_sd_model_hash", sha256))
    autov1 = _hex(kohya.get("ss_sd_model_hash"), 8)
    if autov1 and autov1 != EMPTY_AUTOV1:
        claims.append(Claim(base, "ss_sd_model_hash", autov1))
    name = kohya.get("ss_sd_model_name")
    if isinstance(name, str) and 0 < len(name) <= 255:
        basename = re.split(r"[\\/]", name.strip())[-1]
        if basename:
            claims.append(Claim(base, "ss_sd_model_name", basename, by_name=True))

    # The tensor-data hash written into the file by the tool that made it. When it is not this file's
    # own AutoV3, these tensors were re-saved (converted, quantized) from the file it names.
    own = own_autov3.upper()
    for key, value in (
        ("modelspec.hash_sha256", modelspec.get("hash_sha256")),
        ("sshs_model_hash", kohya.get("sshs_model_hash")),
    ):
        autov3 = _hex(value, 64)
        if autov3 and own and autov3 != own:
            claims.append(Claim(LineageRelation.CONVERTED_FROM, key, autov3))

    claims.extend(_merge_claims(other))
    return claims


def _json(raw) -> object:
    if not isinstance(raw, str) or len(raw) > 65536:
        return None
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        return None


def _weight(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:
            value = float(value) if isinstance(value, str) and len(value) < 30 else None
        except ValueError:
            value = None
    if value is None or not math.isfinite(value) or not 0 <= value <= 1:
        return None
    return float(value)


# A1111's checkpoint merger and supermerger name the models they merged in `sd_merge_recipe`.
_RECIPE_MODELS = (
    ("primary_model_hash", "secondary_model_hash", "tertiary_model_hash"),  # A1111
    ("model_a", "model_b", "model_c"),  # supermerger
)
_RECIPE_WEIGHT = ("multiplier", "alpha", "base_alpha")


def _merge_claims(other: dict) -> list[Claim]:
    claims: list[Claim] = []
    recipe = _json(other.get("sd_merge_recipe"))
    if isinstance(recipe, dict):
        multiplier = next((_weight(recipe[k]) for k in _RECIPE_WEIGHT if k in recipe), None)
        method = recipe.get("interp_method") or recipe.get("mode") or ""
        method = method.lower() if isinstance(method, str) else ""
        weighted_sum = "sum" in method or not method
        for keys in _RECIPE_MODELS:
            for position, key in enumerate(keys):
                value = _hex(recipe.get(key), 64, 12, 10, 8)
                if not value:
                    continue
                weight = None
                if multiplier is not None:
                    if position == 0 and weighted_sum:
                        weight = round(1 - multiplier, 6)
                    elif position == 1:
                        weight = multiplier
                claims.append(Claim(LineageRelation.MERGE_OF, f"sd_merge_recipe.{key}", value, weight))
    if claims:
        return claims
    # No readable recipe: sd_merge_models lists the merged models by SHA-256, without weights.
    models = _json(other.get("sd_merge_models"))
    if isinstance(models, dict):
        for key in list(models)[:MAX_PROPOSALS]:
            value = _hex(key, 64)
            if value:
                claims.append(Claim(LineageRelation.MERGE_OF, "sd_merge_models", value))
    return claims


def _match(candidates: QuerySet[ModelVersion], claim: Claim) -> int | None:
    """The oldest published candidate version holding a ready model file the claim names, or None."""
    files = ModelFile.objects.filter(status=FileStatus.READY).exclude(type=FileType.IMAGE)
    if claim.by_name:
        named = files.filter(name__iexact=claim.value).values("version_id")
        matches = list(candidates.filter(id__in=named).values_list("id", flat=True)[:2])
        return matches[0] if len(matches) == 1 else None  # a name is a weak hint: only a unique match
    value = claim.value
    if len(value) == 64:
        match = Q(blob__sha256=value) | Q(blob__autov3=value)
    elif len(value) == 8:
        match = Q(blob__autov1=value)
    elif len(value) == 10:
        match = Q(blob__sha256__startswith=value)
    else:
        match = Q(blob__sha256__startswith=value) | Q(blob__autov3__startswith=value)
    found = candidates.filter(id__in=files.filter(match).values("version_id"))
    return found.order_by(F("published_at").asc(nulls_last=True), "id").values_list("id", flat=True).first()


def own_unpublished_with_parents(user, model):
    """models_app.page_cache's check: any model's lineage graph may reach their own drafts, which only
    they see (visible_versions), so a viewer with a draft that has links gets every page built.

    Asked from the links' side (this one and own_unpublished_with_children), so the database may start
    from whichever is smaller, the links or the viewer's versions. Asked from the versions' side, with
    both links as outer joins, it went through every version of the viewer's: a creator of 257 models
    spent 1.9 ms there on each model page at 1M, though the catalog had two links."""
    return _links_to_own_unpublished("child", user)


def own_unpublished_with_children(user, model):
    """The other half of own_unpublished_with_parents: their unpublished versions others link to."""
    return _links_to_own_unpublished("parent", user)


def _links_to_own_unpublished(end: str, user) -> QuerySet[VersionParent]:
    """Links whose `end` ("child" or "parent") is a version of `user`'s that is unpublished or in an
    unpublished model of theirs."""
    return VersionParent.objects.filter(**{f"{end}__model__owner": user}).filter(
        ~Q(**{f"{end}__status": PublishStatus.PUBLISHED})
        | ~Q(**{f"{end}__model__status": PublishStatus.PUBLISHED})
    )


def own_links_to_confirm(user, model):
    """models_app.page_cache's check: a graph shows "Confirm" on a proposed link to their version."""
    return VersionParent.objects.filter(child__model__owner=user, confirmed=False)
