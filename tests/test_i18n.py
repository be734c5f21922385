"""English and French (docs/i18n.md): Accept-Language and the header's switcher pick the language,
pages, forms, messages and emails follow it, dates and numbers are written the French way, machine
values and API URLs stay as they are, and every msgid of the templates and Python code has a French
translation."""

import re
from datetime import timedelta
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django.utils import timezone, translation
from django.utils.formats import date_format

from hub.i18n import Message, missing_french, problem, project_messages, template_messages
from hub.management.commands.compile_translations import compile_translations
from models_app.models import AIModel, ModelVersion
from tests.factories import make_model, make_user

pytestmark = pytest.mark.django_db

FRENCH = {"HTTP_ACCEPT_LANGUAGE": "fr-FR,fr;q=0.9,en;q=0.5"}


@pytest.fixture(autouse=True)
def _english_afterwards():
    """A request in French leaves French active in this thread; the next test starts in English."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


def _text(response) -> str:
    return re.sub(
        r"[ \t\r\n]+", " ", re.sub(r"<[^>]+>", " ", response.content.decode())
    )  # keeps no-break spaces


# --- Choosing the language.


def test_a_browser_asking_for_french_gets_french_pages(client):
    page = client.get("/", **FRENCH).content.decode()
    assert '<html lang="fr">' in page
    assert "Derniers modèles" in page and "Connexion" in page and "Inscription" in page
    assert "Latest models" not in page


def test_without_a_preference_pages_are_english(client):
    page = client.get("/").content.decode()
    assert '<html lang="en">' in page and "Latest models" in page and "Log in" in page


def test_the_header_switcher_is_a_plain_form_posting_to_set_language(client):
    page = client.get("/models/").content.decode()
    form = re.search(r'<form class="lang-switch".*?</form>', page, re.S).group(0)
    assert 'action="/i18n/setlang/"' in form and 'method="post"' in form
    assert 'name="csrfmiddlewaretoken"' in form and 'name="next" value="/models/"' in form
    assert 'name="language" value="en"' in form and 'name="language" value="fr"' in form
    assert "<script" not in form  # works without JavaScript, under the CSP


def test_the_switcher_sets_a_lasting_cookie_and_returns_to_the_page(client):
    response = client.post("/i18n/setlang/", {"language": "fr", "next": "/models/"})
    assert response.status_code == 302 and response["Location"] == "/models/"
    cookie = response.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert cookie.value == "fr" and int(cookie["max-age"]) >= 30 * 24 * 3600
    # The cookie wins over the browser's Accept-Language from then on.
    page = client.get("/models/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Parcourir les modèles" in page and '<html lang="fr">' in page
    client.post("/i18n/setlang/", {"language": "en", "next": "/models/"})
    assert "Browse models" in client.get("/models/").content.decode()


def test_an_offsite_next_is_not_followed(client):
    response = client.post("/i18n/setlang/", {"language": "fr", "next": "https://evil.example/"})
    assert response.status_code == 302 and "evil.example" not in response["Location"]


def test_urls_carry_no_language_prefix_and_apis_answer_the_same(client, creator):
    make_model(creator)
    assert client.get("/fr/", **FRENCH).status_code == 404
    english = client.get("/api/v1/models").json()
    french = client.get("/api/v1/models", **FRENCH).json()
    assert set(french) == set(english) == {"items", "metadata"}
    assert french["items"][0]["type"] == english["items"][0]["type"] == "LORA"


# --- What a French visitor sees.


def test_a_french_model_page_writes_dates_and_numbers_the_french_way(client, creator):
    model = make_model(creator, name="Aquarelle")
    AIModel.objects.filter(id=model.id).update(download_count=12345)
    version = ModelVersion.objects.get(model=model)
    ModelVersion.objects.filter(id=version.id).update(download_count=1)
    version.refresh_from_db()
    page = client.get(model.get_absolute_url(), **FRENCH).content.decode()
    text = _text(client.get(model.get_absolute_url(), **FRENCH))
    assert "12\xa0345 téléchargements" in text  # the model: French thousands separator, plural
    assert "1 téléchargement " in text  # the version: singular
    with translation.override("fr"):
        published = date_format(version.published_at, "DATE_FORMAT")
    assert re.fullmatch(r"\d{1,2} \w+ \d{4}", published)  # "3 décembre 2026"
    assert f"publié le {published}" in text
    assert "Autorisations" in text and "Utiliser sans citer le créateur" in text
    # Machine-readable values keep their own format.
    assert f'<time datetime="{version.published_at.isoformat()}">' in page
    assert f'data-model-id="{model.id}"' in client.get("/models/", **FRENCH).content.decode()


def test_the_same_page_in_english_uses_english_formats(client, creator):
    model = make_model(creator)
    AIModel.objects.filter(id=model.id).update(download_count=12345)
    text = _text(client.get(model.get_absolute_url()))
    assert "12,345 downloads" in text and "Permissions" in text


def test_forms_and_choice_labels_are_french(client, creator):
    client.force_login(creator)
    page = client.get("/models/new", **FRENCH).content.decode()
    assert "Publier un modèle" in page and '<label for="id_name">Nom' in page
    assert "Séparés par des virgules" in page  # a help text
    assert "Markdown accepté, jusqu’à 20\xa0000 caractères." in page  # a localised count in a help text


def test_messages_after_an_action_are_french(client, creator):
    model = make_model(creator)
    client.force_login(creator)
    response = client.post(f"/models/{model.pk}/unpublish", follow=True, **FRENCH)
    assert "est dépublié : seuls vous et les modérateurs le voyez désormais." in response.content.decode()


def test_a_refusal_on_a_page_is_french(client, creator):
    client.force_login(creator)
    # A form sent without its one-time token (a reload) makes no key and says so.
    page = client.post("/settings/api-keys", {"name": "x"}, follow=True, **FRENCH).content.decode()
    assert "Clés d’API" in page and "Ce formulaire a déjà été envoyé" in page


def test_the_scripts_get_their_french_from_the_catalog(client):
    page = client.get("/", **FRENCH).content.decode()
    assert '<script src="/jsi18n/"></script>' in page  # before the page's own scripts
    catalog = client.get("/jsi18n/", **FRENCH).content.decode()
    assert "Copi\\u00e9" in catalog or "Copié" in catalog  # static/js/copy.js's "Copied"
    english = client.get("/jsi18n/").content.decode()
    assert "Copi\\u00e9" not in english and "Copié" not in english


def test_a_refused_download_page_is_french_with_a_french_deadline(client, creator, fan):
    model = make_model(creator)
    version = model.versions.get()
    ends = timezone.now() + timedelta(days=3)
    ModelVersion.objects.filter(id=version.id).update(early_access_ends_at=ends)
    client.force_login(fan)
    page = client.get(
        f"/api/download/models/{version.id}", HTTP_ACCEPT="text/html", **FRENCH
    ).content.decode()
    with translation.override("fr"):
        shown = date_format(ends, "DATETIME_FORMAT")
    assert "Accès anticipé" in page and f">{shown}</time>" in page
    assert "Cette ressource est en accès anticipé." in page
    # A tool gets CivitAI's English JSON whatever it asks for.
    answer = client.get(f"/api/download/models/{version.id}", **FRENCH).json()
    assert answer["error"] == "Early Access" and answer["message"].startswith(
        "This asset is in Early Access."
    )


def test_error_pages_are_french(client):
    page = client.get("/models/999999/nothing", **FRENCH).content.decode()
    assert "Page introuvable" in page and "Retour aux modèles" in page


def test_the_account_pages_are_french(client):
    page = client.get("/accounts/login/", **FRENCH).content.decode()
    assert '<html lang="fr">' in page and "Mot de passe" in page  # allauth's own French


def test_account_emails_are_sent_in_the_visitors_language(client):
    make_user("carol")
    client.post("/accounts/password/reset/", {"email": "carol@example.com"}, **FRENCH)
    assert len(mail.outbox) == 1
    assert "réinitialisation" in (mail.outbox[0].subject + mail.outbox[0].body).lower()


# --- The catalogue is complete, and the tools that keep it so.


def test_every_template_string_and_message_has_a_french_translation():
    missing = [f"{m.path}:{m.line}: {m.msgid!r} ({reason})" for m, reason in missing_french()]
    assert not missing, "run `manage.py i18n_missing` and translate:\n" + "\n".join(missing)


def test_the_extractor_sees_templates_and_python_code():
    found = {(m.path, m.msgid) for m in project_messages()}
    assert ("templates/_chrome/nav_anonymous.html", "Log in") in found
    assert ("models_app/views.py", "%(name)s is published.") in found
    plural = [m for m in project_messages() if m.msgid == "%(shown)s download"]
    assert plural and plural[0].plural == "%(shown)s downloads"


def test_a_string_without_french_is_reported(tmp_path):
    template = tmp_path / "new.html"
    template.write_text('{% load i18n %}<p>{% translate "A sentence nobody translated yet" %}</p>')
    [message] = template_messages(template)
    assert message.msgid == "A sentence nobody translated yet"
    entries = {
        e.msgid: e for e in polib.pofile(str(Path(settings.BASE_DIR) / "locale/fr/LC_MESSAGES/django.po"))
    }
    assert problem(message, entries.get(message.msgid)) == "no French translation"


def test_fuzzy_empty_and_mismatched_translations_are_reported():
    message = Message("Hello %(name)s")
    assert problem(message, polib.POEntry(msgid=message.msgid, msgstr="")) == "no French translation"
    fuzzy = polib.POEntry(msgid=message.msgid, msgstr="Bonjour %(name)s", flags=["fuzzy"])
    assert problem(message, fuzzy) == "French translation marked fuzzy"
    wrong = polib.POEntry(msgid=message.msgid, msgstr="Bonjour %(nom)s")
    assert problem(message, wrong).startswith("placeholders differ")
    assert problem(message, polib.POEntry(msgid=message.msgid, msgstr="Bonjour %(name)s")) == ""


def test_i18n_missing_says_when_everything_is_translated(capsys):
    call_command("i18n_missing")
    assert "Every message has a French translation." in capsys.readouterr().out


def test_translations_compile_without_gettext(settings, tmp_path):
    folder = tmp_path / "fr" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    po = polib.POFile()
    po.metadata = {"Content-Type": "text/plain; charset=UTF-8", "Plural-Forms": "nplurals=2; plural=(n > 1);"}
    po.append(polib.POEntry(msgid="Hello", msgstr="Bonjour"))
    po.append(polib.POEntry(msgid="Unsure", msgstr="Incertain", flags=["fuzzy"]))
    po.save(str(folder / "django.po"))
    settings.LOCALE_PATHS = [tmp_path]
    assert compile_translations() == [folder / "django.mo"]
    assert compile_translations() == []  # up to date: nothing rewritten
    compiled = {e.msgid: e.msgstr for e in polib.mofile(str(folder / "django.mo"))}
    assert compiled == {"Hello": "Bonjour"}  # fuzzy entries are left out, as msgfmt does
