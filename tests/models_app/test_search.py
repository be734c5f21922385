"""/search/: full-text on PostgreSQL, an FTS5 trigram index on SQLite; both rank and tolerate typos."""

import pytest
from django.db import connection

from models_app.models import AIModel
from models_app.selectors import search_models
from tests.factories import make_model

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog(creator, fan):
    make_model(creator, name="Watercolor Landscapes", description="Soft washes of paint.", tags=["painting"])
    make_model(creator, name="Cyberpunk City", description="Neon streets, inspired by watercolor posters.")
    make_model(fan, name="Anime Eyes", tags=["anime"])
    make_model(creator, name="Hidden Watercolor", publish=False)
    make_model(creator, name="Spicy Watercolor", nsfw_level=4)


def found(user, q):
    return [m.name for m in search_models(user, q)]


def test_search_matches_names_descriptions_tags_trigger_words_and_creators(catalog, fan):
    anonymous = type("Anon", (), {"is_authenticated": False, "has_perm": lambda *a: False})()
    assert set(found(anonymous, "watercolor")) == {"Watercolor Landscapes", "Cyberpunk City"}
    assert found(anonymous, "anime") == ["Anime Eyes"]
    assert set(found(anonymous, "tiny")) >= {"Watercolor Landscapes", "Anime Eyes"}  # the trigger word
    assert found(anonymous, "bob") == ["Anime Eyes"]
    assert found(anonymous, "") == []


def test_drafts_and_mature_models_are_not_search_results(catalog, creator):
    results = found(creator, "watercolor")
    assert "Hidden Watercolor" not in results and "Spicy Watercolor" not in results


def test_a_name_match_ranks_above_a_description_match(catalog, fan):
    assert found(fan, "watercolor")[0] == "Watercolor Landscapes"


def test_a_typo_still_finds_the_model(catalog, fan):
    assert "Cyberpunk City" in found(fan, "cyberpnk cty")
    assert found(fan, "watercolr")[0] == "Watercolor Landscapes"
    assert found(fan, "anme") == ["Anime Eyes"]  # the tag and the name, one letter missing
    assert found(fan, "qzxv") == []


def test_typos_rank_the_closest_name_first_and_leave_unrelated_models_out(creator, fan):
    make_model(creator, name="Watercolor Portraits")
    make_model(creator, name="Watercolor Harbour")
    make_model(creator, name="Water Lilies")
    make_model(creator, name="Oil Paint Studies")
    results = found(fan, "watercolr portrait")
    # Both corrected words first, then a model with one of them (on PostgreSQL both from one read
    # of the most downloaded documents, migration 0037).
    assert results[:2] == ["Watercolor Portraits", "Watercolor Harbour"]
    assert "Oil Paint Studies" not in results


def test_the_search_page_and_the_api_find_a_typo(client, catalog):
    assert "Watercolor Landscapes" in client.get("/search/", {"q": "watercolr"}).content.decode()
    names = [item["name"] for item in client.get("/api/hub/models", {"q": "watercolr"}).json()["items"]]
    assert names[0] == "Watercolor Landscapes" and "Spicy Watercolor" not in names
    civitai = client.get("/api/v1/models", {"query": "watercolr"}).json()["items"]
    assert "Watercolor Landscapes" in [item["name"] for item in civitai]


def test_the_search_page_and_the_suggestions_show_the_results(client, catalog):
    html = client.get("/search/", {"q": "anime"}).content.decode()
    assert "Anime Eyes" in html and "Cyberpunk City" not in html
    suggestions = client.get("/search/", {"q": "anime", "fragment": "suggestions"}).content.decode()
    model = AIModel.objects.get(name="Anime Eyes")
    assert model.get_absolute_url() in suggestions and "<html" not in suggestions
    assert (
        "No models match" in client.get("/search/", {"q": "zzzz", "fragment": "suggestions"}).content.decode()
    )


def test_search_follows_renames_tags_unpublishing_nsfw_and_deletes(catalog, creator, fan):
    """On PostgreSQL search reads its own table, kept in step by triggers; every change must show."""
    from models_app import cards, services
    from models_app.models import PublishStatus, SearchDocument

    model = AIModel.objects.get(name="Anime Eyes")
    model.name = "Ukiyo-e Prints"
    model.save()
    assert found(fan, "ukiyo") == ["Ukiyo-e Prints"]
    assert found(fan, "ukiyoe prnts") == ["Ukiyo-e Prints"]  # the new name, with typos
    assert found(fan, "eyes") == []  # the old name is gone from the index
    model.tags.add(*services.tags_from_names(["woodblock"]))
    cards.refresh_card_fields(model_ids=[model.id])
    assert found(fan, "woodblock") == ["Ukiyo-e Prints"]
    AIModel.objects.filter(id=model.id).update(nsfw_level=4)
    assert found(fan, "ukiyo") == []
    AIModel.objects.filter(id=model.id).update(nsfw_level=1, status=PublishStatus.UNPUBLISHED)
    assert found(fan, "ukiyo") == [] and found(fan, "ukiyoe prnts") == []
    AIModel.objects.filter(id=model.id).update(status=PublishStatus.PUBLISHED)
    assert found(fan, "ukiyo") == ["Ukiyo-e Prints"]
    model.delete()
    assert found(fan, "ukiyo") == []
    if connection.vendor == "postgresql":
        assert not SearchDocument.objects.filter(model_id=model.id).exists()
        assert SearchDocument.objects.count() == AIModel.objects.count()


def test_the_browse_api_searches_with_q_best_first_in_one_page(client, catalog):
    data = client.get("/api/hub/models", {"q": "watercolor"}).json()
    names = [item["name"] for item in data["items"]]
    assert set(names) == {"Watercolor Landscapes", "Cyberpunk City"} and data["next_cursor"] is None
    if connection.vendor == "postgresql":
        assert names[0] == "Watercolor Landscapes"  # a name match ranks above a description match
    assert [
        i["name"]
        for i in client.get("/api/hub/models", {"q": "watercolor", "type": "Checkpoint"}).json()["items"]
    ] == []
    assert client.get("/api/hub/models", {"q": "zzzz"}).json() == {"items": [], "next_cursor": None}
    with_nsfw = [
        i["name"] for i in client.get("/api/hub/models", {"q": "watercolor", "nsfw": "true"}).json()["items"]
    ]
    assert "Spicy Watercolor" in with_nsfw and "Hidden Watercolor" not in with_nsfw


def test_no_search_reveals_the_trigger_words_of_a_draft_version(client, creator, run_on_commit):
    """Only published versions feed search, on SQLite as on PostgreSQL, in all four search APIs."""
    from models_app import services

    model = make_model(creator, name="Public LoRA")
    draft = services.create_version(
        model=model, name="v2 draft", base_model="SD 1.5", trained_words=["unreleasedword"]
    )
    assert draft.status == "draft"
    searches = {  # path: (parameter, how the model shows in the answer)
        "/search/": ("q", "Public LoRA"),
        "/api/hub/models": ("q", "Public LoRA"),
        "/api/v1/models": ("query", "Public LoRA"),
        "/api/models": ("search", "alice/public-lora"),
    }
    for path, (param, shows) in searches.items():
        assert shows not in client.get(path, {param: "unreleasedword"}).content.decode(), path
        assert shows in client.get(path, {param: "tiny"}).content.decode(), path  # its published word


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the FTS5 index is SQLite's")
def test_on_sqlite_the_trigram_index_finds_typos_and_follows_the_model_rows(catalog, fan, monkeypatch):
    from django.core.management import call_command

    from models_app import sqlite_search

    def indexed() -> dict[int, str]:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT rowid, name FROM {sqlite_search.TABLE}")
            return dict(cursor.fetchall())

    monkeypatch.setattr(sqlite_search, "FALLBACK_SCAN", 0)  # the index alone
    assert found(fan, "watercolr")[0] == "Watercolor Landscapes"
    assert "Cyberpunk City" in found(fan, "cyberpnk")
    assert indexed() == dict(AIModel.objects.values_list("id", "name"))
    model = AIModel.objects.get(name="Cyberpunk City")
    AIModel.objects.filter(id=model.id).update(name="Neon Harbour")
    assert indexed()[model.id] == "Neon Harbour" and found(fan, "neon harbor") == ["Neon Harbour"]
    call_command("migrate", verbosity=0)  # installing again is harmless and refills the index
    assert indexed() == dict(AIModel.objects.values_list("id", "name"))
    model_id = model.id
    model.delete()
    assert model_id not in indexed() and len(indexed()) == AIModel.objects.count()


def test_the_search_api_and_page_cost_the_same_queries_for_3_and_23_results(client, creator):
    """One page of matches is a fixed number of queries (one on PostgreSQL), whatever its size. (On
    SQLite, fewer matches than a page add one scan for typos: both pages below have fewer than 24.)"""
    from django.test.utils import CaptureQueriesContext

    for i in range(23):
        make_model(creator, name=f"Watercolor Study {i}", tags=["pastel"] if i < 3 else [])

    def queries(url, params):
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url, params)
        assert response.status_code == 200
        return len(captured), response

    few, response = queries("/api/hub/models", {"q": "watercolor", "limit": 3})
    many, more = queries("/api/hub/models", {"q": "watercolor", "limit": 23})
    assert len(response.json()["items"]) == 3 and len(more.json()["items"]) == 23 and few == many
    few, response = queries("/search/", {"q": "pastel"})
    many, more = queries("/search/", {"q": "watercolor"})
    assert response.content.decode().count('class="model-card') == 3
    assert more.content.decode().count('class="model-card') == 23 and few == many
    if connection.vendor == "postgresql":
        assert few == 1  # the page's one query: ranking and cards together


def test_a_plain_search_answers_what_a_filtered_one_and_the_search_page_show(client, catalog, moderator):
    """A search without filters takes a shorter path on PostgreSQL (one query building the items); it
    must list exactly what the path with filters lists, in the same order, as the cards say."""
    from django.contrib.auth.models import AnonymousUser

    from models_app.models import ModelType
    from tests.models_app.test_browse import model_card_json

    AIModel.objects.filter(name="Cyberpunk City").update(download_count=1234, rating=4.5)
    plain = client.get("/api/hub/models", {"q": "watercolor", "nsfw": "true"}).json()
    every_type = {"q": "watercolor", "nsfw": "true", "type": ",".join(ModelType.values)}
    filtered = client.get("/api/hub/models", every_type).json()
    assert plain == filtered and plain["next_cursor"] is None
    cards = search_models(AnonymousUser(), "watercolor", levels=31)
    assert plain["items"] == [model_card_json(card) for card in cards]
    assert {item["name"] for item in plain["items"]} == {
        "Watercolor Landscapes",
        "Cyberpunk City",
        "Spicy Watercolor",
    }

    AIModel.objects.filter(name="Spicy Watercolor").update(nsfw_level=32)  # Blocked by a moderator
    assert "Spicy Watercolor" not in names(client.get("/api/hub/models", {"q": "watercolor", "levels": 63}))
    client.force_login(moderator)
    assert "Spicy Watercolor" in names(client.get("/api/hub/models", {"q": "watercolor", "levels": 63}))


def names(response) -> list[str]:
    return [item["name"] for item in response.json()["items"]]


def published_in_bulk(owner, downloads_by_name: dict[str, int]) -> None:
    """Published models without versions, many at once (the search table's triggers still run)."""
    from django.utils import timezone
    from django.utils.text import slugify

    now = timezone.now()
    AIModel.objects.bulk_create(
        AIModel(
            owner=owner, name=name, slug=slugify(name), type="LORA", status="published",
            published_at=now, download_count=downloads,
        )
        for name, downloads in downloads_by_name.items()
    )  # fmt: skip


def test_a_word_in_more_models_than_a_search_reads_still_finds_the_most_downloaded(creator, fan):
    """PostgreSQL reads the most downloaded documents first (migration 0034): the full-text index
    alone handed over the first hundred matches it stored, here the oldest, and missed the popular
    ones created last."""
    if connection.vendor != "postgresql":
        pytest.skip("the search function is PostgreSQL's")
    published_in_bulk(creator, {f"Heron study {i:03d}": 1_000_000 + i if i >= 140 else i for i in range(150)})
    results = found(fan, "heron")
    assert results[:10] == [f"Heron study {i:03d}" for i in range(149, 139, -1)]
    with connection.cursor() as cursor:  # floor(log2(downloads + 1)), kept by the trigger
        cursor.execute(
            "SELECT d.popularity FROM models_app_searchdocument d JOIN models_app_aimodel m ON m.id = d.model_id"
            " WHERE m.name IN ('Heron study 000', 'Heron study 003', 'Heron study 149') ORDER BY m.name"
        )
        assert [row[0] for row in cursor.fetchall()] == [0, 2, 19]
        AIModel.objects.filter(name="Heron study 000").update(download_count=7)
        cursor.execute(
            "SELECT d.popularity FROM models_app_searchdocument d JOIN models_app_aimodel m ON m.id = d.model_id"
            " WHERE m.name = 'Heron study 000'"
        )
        assert cursor.fetchone()[0] == 3


def test_a_word_the_query_excludes_is_in_none_of_its_results(creator, fan):
    """ "-portraits" leaves out every model with the word, however the others were found: by the
    words, by a corrected typo, by a similar tag (PostgreSQL, migration 0041; SQLite by substring).
    Before, a typo's correction rebuilt the query without the "-" and filled the page with portraits."""
    make_model(creator, name="Watercolor Portraits")
    make_model(creator, name="Watercolor Harbour")
    make_model(creator, name="Moody Faces", tags=["portraits"])
    make_model(creator, name="Heron Painting", description="Portraits of herons at dawn.")
    make_model(creator, name="Egret Sketch")

    assert found(fan, "watercolor -portraits") == ["Watercolor Harbour"]
    assert found(fan, "watercolr -portraits") == ["Watercolor Harbour"]
    assert "Watercolor Portraits" in found(fan, "watercolr")  # the same typo without the "-"
    for query in ("egrett -portraits", "portraits -portraits", "faces -portraits", "-portraits"):
        results = found(fan, query)
        assert not {"Watercolor Portraits", "Moody Faces", "Heron Painting"} & set(results), query
    assert "Egret Sketch" in found(fan, "egrett -portraits")
    assert {"Watercolor Harbour", "Egret Sketch"} <= set(found(fan, "-portraits"))  # the others match
    assert set(found(fan, "portraits")) >= {"Watercolor Portraits", "Moody Faces", "Heron Painting"}
    if connection.vendor == "postgresql":  # a quoted phrase, which SQLite's search reads as characters
        make_model(creator, name="Portraits in Watercolor")
        results = found(fan, 'watercolr -"watercolor portraits"')
        assert "Watercolor Portraits" not in results
        assert {"Watercolor Harbour", "Portraits in Watercolor"} <= set(results)
        # A quote left open runs to the end, as websearch_to_tsquery reads it (migration 0042).
        results = found(fan, 'watercolr -"watercolor portraits')
        assert "Watercolor Portraits" not in results
        assert {"Watercolor Harbour", "Portraits in Watercolor"} <= set(results)


def test_a_query_whose_words_no_model_has_together_still_finds_models_with_some_of_them(catalog, fan):
    assert "Cyberpunk City" in found(fan, "cyberpunk city night")


def test_a_misspelled_name_is_found_beyond_the_most_downloaded_models(creator, fan):
    """PostgreSQL corrects each misspelled word to the closest word of a published name (migration
    0035) and searches the corrected words like any others: here the model is far behind 2,000 more
    downloaded ones that share one of its words, and it still comes first."""
    if connection.vendor != "postgresql":
        pytest.skip("the search function is PostgreSQL's")
    from models_app.models import SearchWord

    published_in_bulk(creator, {f"Prints of Paris {i}": 1_000 + i for i in range(2_100)})
    make_model(creator, name="Ukiyo-e Prints")
    make_model(creator, name="Ukiyo-e Sketches", publish=False)

    assert found(fan, "ukiyoe prnts")[0] == "Ukiyo-e Prints"
    words = set(SearchWord.objects.values_list("word", flat=True))
    assert {"ukiyo", "prints", "paris"} <= words
    assert "sketches" not in words  # a draft's name is nobody's business yet
    assert "of" not in words  # too short to correct anything


def test_a_typo_finds_both_what_has_the_words_as_typed_and_what_has_them_corrected(creator, fan):
    """The words as typed and as corrected are looked for in one read of the most downloaded
    documents (migration 0038): a description with the same misspellings is found beside the name
    with the right words and the names with one of them, and an unrelated model is not."""
    if connection.vendor != "postgresql":
        pytest.skip("the search function is PostgreSQL's")
    published_in_bulk(creator, {f"Painting of Paris {i}": 1_000 + i for i in range(5)})
    make_model(creator, name="Heron Painting", download_count=5)
    make_model(creator, name="Woodblock Study", description="Heronn paintng from Edo.", download_count=9)
    make_model(creator, name="Egret Sketch", download_count=50)

    results = found(fan, "heronn paintng")
    assert results[0] == "Heron Painting"
    assert "Woodblock Study" in results  # the words as typed, in its description
    assert "Painting of Paris 4" in results  # one corrected word
    assert "Egret Sketch" not in results


def test_a_misspelling_that_a_description_has_is_found_beyond_the_most_downloaded_models(creator, fan):
    """Past the 2,000 most downloaded documents only the full-text index finds the words as typed;
    migration 0039 skips that look-up when no document has the words the correction changed, and
    here one has them."""
    if connection.vendor != "postgresql":
        pytest.skip("the search function is PostgreSQL's")
    published_in_bulk(creator, {f"Painting of Paris {i}": 1_000 + i for i in range(2_100)})
    make_model(creator, name="Woodblock Study", description="Heronn paintng from Edo.")

    names = [m.name for m in search_models(fan, "heronn paintng", limit=200)]  # past 100 popular matches
    assert "Woodblock Study" in names
    assert "Painting of Paris 2099" in names  # a corrected word, the most downloaded first


def test_the_words_of_a_renamed_or_newly_published_model_correct_typos_at_once(creator, fan):
    if connection.vendor != "postgresql":
        pytest.skip("the search function is PostgreSQL's")
    from models_app import services
    from models_app.tasks import process_file

    model = make_model(creator, name="Heron Study")
    draft = make_model(creator, name="Kingfisher Dive", publish=False)
    assert found(fan, "kingfsher") == []
    model.name = "Egret Study"
    model.save()
    assert found(fan, "egrett") == ["Egret Study"]

    version = draft.versions.get()
    process_file.apply(args=[version.files.get().id])  # its file checked, so publishing is at once
    services.publish_version(version=version, by=creator)
    assert found(fan, "kingfsher") == ["Kingfisher Dive"]


def test_the_nightly_prune_drops_old_names_words_so_a_typo_finds_the_model_that_has_the_word(creator, fan):
    """A renamed model's old word stays in the vocabulary until the prune (migration 0036): until
    then "heronr" is corrected to the old "heronry", which no model has, and finds nothing."""
    if connection.vendor != "postgresql":
        pytest.skip("the search function is PostgreSQL's")
    from models_app.models import SearchWord
    from models_app.tasks import prune_search_words

    make_model(creator, name="Heron Study")
    renamed = make_model(creator, name="Heronry Notes")
    unpublished = make_model(creator, name="Pelican Sketch")
    renamed.name = "Marsh Notes"
    renamed.save()
    unpublished.status = "unpublished"
    unpublished.save()
    assert found(fan, "heronr") == []

    assert prune_search_words.apply().get() == 3
    words = set(SearchWord.objects.values_list("word", flat=True))
    assert {"heron", "study", "marsh", "notes"} <= words
    assert not {"heronry", "pelican", "sketch"} & words
    assert found(fan, "heronr") == ["Heron Study"]
    assert prune_search_words.apply().get() == 0


TRICKY_NAMES = ["Watercolor Landscapes", "ÜBER Café — Ünïcode Art", "x", "A-B c_d", "ukiyo-e 浮世絵 prints",
                "SDXL 1.0 LoRA v2", "Heron Painting " * 12]  # fmt: skip


def test_search_ranks_names_by_the_same_similarity_as_pg_trgm(creator, fan):
    """The ranking's name similarity comes from the trigrams each search document keeps (migration
    0040), not from pg_trgm's similarity() per candidate: for names and queries with capitals,
    accents, other scripts, punctuation, digits and repeats, and with no trigram at all, it is
    the same number; a rename changes it at once."""
    if connection.vendor != "postgresql":
        pytest.skip("the search function is PostgreSQL's")
    models = [make_model(creator, name=name) for name in TRICKY_NAMES]
    models[0].name = "Watercolour Seascapes"
    models[0].save(update_fields=["name"])
    queries = ["watercolr", "WATERCOLOUR seascape", "über cafe", "ünïcode", "浮世絵", "a b", "v2 lora", "!!!", ""]  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT d.name, q, similarity(d.name, q),"
            " models_app_name_similarity(d.name_trigrams, models_app_name_trigrams(q))"
            " FROM models_app_searchdocument d, unnest(%s::text[]) q WHERE d.model_id = ANY(%s)",
            [queries, [m.pk for m in models]],
        )
        rows = cursor.fetchall()
    assert len(rows) == len(TRICKY_NAMES) * len(queries)
    assert "Watercolour Seascapes" in {name for name, *_ in rows}
    assert [row for row in rows if row[2] != row[3]] == []
    assert any(row[2] > 0.5 for row in rows)  # some are alike, so equality says something
