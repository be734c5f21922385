"""The card copies (models_app/cards.py) at catalog scale: the bulk refresh is set-based and gives
each model the same copies as the single-model refresh; on PostgreSQL the single-model refresh (run on
every publish) reads by index on a catalog of any size, with or without planner statistics
(docs/scaling-database.md#filling-the-card-copies)."""

import io
import json

import pytest
from django.core.management import call_command
from django.db import connection

from models_app import cards
from models_app.models import AIModel, PublishStatus

from ..factories import ensure_base_models

pytestmark = pytest.mark.django_db

COPIES = ("tag_names", "base_model_names", "trigger_words")
# Tables that grow with the catalog; a sequential scan of one of them costs the whole catalog. The tag
# and base-model vocabularies stay a few hundred rows, where a scan may be the cheapest plan.
BIG_TABLES = {"models_app_aimodel", "models_app_aimodel_tags", "models_app_modelversion"}


def seed(models: int) -> None:
    ensure_base_models()
    call_command("seed_catalog", models=models, batch=500, stdout=io.StringIO())


def copies() -> dict[int, tuple]:
    return {row[0]: tuple(row[1:]) for row in AIModel.objects.order_by("id").values_list("id", *COPIES)}


def expected(model: AIModel) -> tuple:
    """The copies, derived in Python from the relations themselves."""
    published = [v for v in model.versions.all() if v.status == PublishStatus.PUBLISHED]
    return (
        sorted(tag.name for tag in model.tags.all()),
        sorted({v.base_model.name for v in published}),
        sorted({word for v in published for word in v.trained_words}),
    )


def test_the_bulk_refresh_fills_every_model_as_the_single_model_refresh_does():
    seed(120)
    AIModel.objects.update(tag_names=[], base_model_names=[], trigger_words=[])
    cards.refresh_card_fields()
    bulk = copies()
    models = AIModel.objects.prefetch_related("tags", "versions__base_model")
    derived = {model.id: expected(model) for model in models}
    assert {k: (v[0], sorted(v[1]), sorted(v[2])) for k, v in bulk.items()} == derived
    assert sum(1 for v in bulk.values() if v[2]) > 10  # LoRAs and embeddings carry trigger words

    AIModel.objects.update(tag_names=["stale"], base_model_names=[], trigger_words=["stale"])
    for model_id in bulk:
        cards.refresh_card_fields(model_ids=[model_id])
    assert copies() == bulk


def test_a_model_without_tags_or_published_versions_gets_empty_copies():
    seed(40)
    model = AIModel.objects.filter(status=PublishStatus.DRAFT).first() or AIModel.objects.first()
    model.tags.clear()
    model.versions.update(status=PublishStatus.DRAFT)
    cards.refresh_card_fields()
    model.refresh_from_db()
    assert (model.tag_names, model.base_model_names, model.trigger_words) == ([], [], [])


def plan_nodes(sql: str, params) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    nodes, todo = [], [plan[0]["Plan"]]
    while todo:
        node = todo.pop()
        nodes.append(node)
        todo.extend(node.get("Plans", []))
    return nodes


def forget_statistics() -> None:
    """Put the catalog's tables back in the state of a fresh bulk load: no column statistics and no
    row counts, as before the first ANALYZE (issue 17). Rolled back with the test's transaction."""
    tables = [*BIG_TABLES, "models_app_tag", "models_app_basemodel"]
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM pg_statistic WHERE starelid = ANY(%s::regclass[])",
            [tables],
        )
        cursor.execute(
            "UPDATE pg_class SET reltuples = -1, relpages = 0 WHERE oid = ANY(%s::regclass[])",
            [tables],
        )


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner")
@pytest.mark.parametrize("statistics", ["analyzed", "never analyzed"])
def test_the_single_model_refresh_reads_the_big_tables_by_index(statistics):
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        superuser = cursor.fetchone()[0]
    if statistics == "never analyzed" and not superuser:
        pytest.skip("forgetting statistics needs a superuser")
    seed(3000)  # about 9,000 versions and 9,000 tag rows: big enough that a scan costs more than an index
    if statistics == "never analyzed":
        forget_statistics()
    model_id = AIModel.objects.order_by("?").values_list("id", flat=True).first()

    nodes = plan_nodes(cards.SOME_MODELS_SQL, {"ids": [model_id]})

    scanned = {node.get("Relation Name") for node in nodes if node["Node Type"] == "Seq Scan"}
    assert not scanned & BIG_TABLES, f"sequential scans of {sorted(scanned & BIG_TABLES)}"
    read = {node.get("Relation Name") for node in nodes if "Relation Name" in node}
    assert BIG_TABLES <= read  # the plan does read them, by index

    before = copies()[model_id]
    AIModel.objects.filter(id=model_id).update(tag_names=[], base_model_names=[], trigger_words=[])
    cards.refresh_card_fields(model_ids=[model_id])
    assert copies()[model_id] == before
