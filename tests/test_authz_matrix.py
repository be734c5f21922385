"""Who may change what: every state-changing URL of the hub (POST for pages; POST, PUT, PATCH and
DELETE that an API view implements), requested by each role, answers as the matrix below says.

The URL list comes from the URL conf itself (django.urls.get_resolver()), so a new endpoint that is
missing from MATRIX fails test_every_url_pattern_is_in_the_matrix until someone decides who may use
it. Everything a request aims at belongs to "owner" (tests/security_world.py); each request runs in
a transaction that is rolled back, so one role's delete doesn't change what the next one sees.
docs/security.md#the-authorization-matrix explains the codes."""

import os
import re
from collections import namedtuple

import pytest
from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from django.urls import reverse

from tests.once import in_the_sqlite_run_only
from tests.security_world import ROLES, build_world, iter_patterns

# Who may write what is decided in Python, the same on every database: CI checks it once.
pytestmark = in_the_sqlite_run_only

# One letter per role, in the order of ROLES: anonymous, owner, other, moderator, admin.
#   L  sent to log in: a redirect to a login page, 401, or 403 (anonymous only)
#   R  refused: 403, 404 (someone else's thing looks missing), or a redirect back with an error message
#   O  allowed: the request reached the action (any other answer below 500; 400 for an empty form is fine)
#   M  no such write: 405
# A rule is a string of five letters, or a dict {METHOD: rule} for API views with several methods.
PUBLIC = "OOOOO"  # anyone, signed in or not
SIGNED_IN = "LOOOO"  # any signed-in user, acting on their own things (their follows, reports, comments)
OWNER = "LORRR"  # only the owner; moderators and admins too are refused
OWNER_OR_MODERATOR = "LOROO"  # the owner, and moderators (an admin is a moderator)
MODERATOR = "LRROO"  # moderators and admins only
NO_WRITE = "MMMMM"  # the URL only reads: every write method is 405
READS_ON_POST = "OOOOO"  # a page that answers a POST as a GET (nothing is written)
BILLING_OFF = "LRRRR"  # without Stripe keys (as in tests) every pay button answers 404 to everyone

MATRIX: dict[str, str | dict[str, str]] = {
    "account_login": PUBLIC,
    "account_logout": PUBLIC,
    "account_inactive": NO_WRITE,
    "account_signup": PUBLIC,
    "account_reauthenticate": SIGNED_IN,
    "account_email": SIGNED_IN,
    "account_email_verification_sent": NO_WRITE,
    "account_change_password": SIGNED_IN,
    "account_set_password": SIGNED_IN,
    "account_reset_password": PUBLIC,
    "account_confirm_login_code": SIGNED_IN,
    "account_confirm_email": "RRRRR",  # an unknown confirmation key: 404 to everyone
    "account_reset_password_from_key_done": NO_WRITE,
    "account_reset_password_from_key": PUBLIC,
    "account_reset_password_done": NO_WRITE,
    "healthz": NO_WRITE,
    "readyz": NO_WRITE,
    "metrics": NO_WRITE,
    "set_language": PUBLIC,
    "javascript-catalog": NO_WRITE,
    "billing:webhook": PUBLIC,  # Stripe's signature decides, not a session
    "billing:pricing": NO_WRITE,
    "billing:checkout": BILLING_OFF,
    "billing:portal": BILLING_OFF,
    "billing:tip": BILLING_OFF,
    "billing:earnings": NO_WRITE,
    "download_version": NO_WRITE,
    "serve_file": NO_WRITE,
    "serve_thumbnail": NO_WRITE,
    "serve_image": NO_WRITE,
    "resources:image_detail": READS_ON_POST,
    "resources:create_post": SIGNED_IN,
    "resources:post_detail": "RORRR",  # a post without images is its owner's draft; POST reads like GET
    "resources:api_images": SIGNED_IN,
    "resources:api_image": OWNER_OR_MODERATOR,
    "civitai_models": NO_WRITE,
    "civitai_model": NO_WRITE,
    "civitai_versions_by_hashes": PUBLIC,  # CivitAI's look-ups: a POST that reads
    "civitai_version_ids": PUBLIC,  # CivitAI's look-ups: a POST that reads
    "version_by_hash": NO_WRITE,
    "civitai_version": NO_WRITE,
    "civitai_images": NO_WRITE,
    "civitai_tags": NO_WRITE,
    "civitai_creators": NO_WRITE,
    "civitai_me": NO_WRITE,
    "civitai_enums": NO_WRITE,
    "community:user_profile": READS_ON_POST,
    "community:api_keys": SIGNED_IN,
    "community:revoke_api_key": OWNER,
    "community:feed": SIGNED_IN,
    "community:follow": SIGNED_IN,
    "community:api_follows": {"POST": SIGNED_IN, "DELETE": SIGNED_IN},
    "community:api_follow": OWNER,
    "community_reviews:api_review": {
        "PUT": SIGNED_IN,
        "DELETE": "LRRRR",
    },  # each PUTs and DELETEs their own review; nobody has one here to delete: 404
    "community_reviews:review_version": "LROOO",  # a creator doesn't review their own model
    "community_reviews:version_reviews": READS_ON_POST,
    "community_reviews:delete_review": SIGNED_IN,
    "community_notifications:list": SIGNED_IN,
    "community_notifications:mark_read": SIGNED_IN,
    "community_notifications:open": OWNER,
    "community_notifications:settings": SIGNED_IN,
    "community_notifications:api_read": SIGNED_IN,
    "community_collections:my_collections": SIGNED_IN,
    "community_collections:my_favourites": SIGNED_IN,
    "community_collections:collection": READS_ON_POST,
    "community_collections:edit_collection": OWNER,
    "community_collections:delete_collection": OWNER,
    "community_collections:remove_collection_item": OWNER,
    "community_collections:favourite": SIGNED_IN,
    "community_collections:save_to_collection": "LRRRR",  # the form names a collection of the user's; empty, it is refused
    "community_collections:edit_profile": SIGNED_IN,
    "community_collections:api_collections": SIGNED_IN,
    "community_collections:api_collection": {"PATCH": OWNER, "DELETE": OWNER},
    "community_collections:api_collection_items": {"POST": OWNER, "DELETE": OWNER},
    "community_collections:api_collection_item": OWNER,
    "community_collections:api_profile": SIGNED_IN,
    "community_collections:api_avatar": {"POST": SIGNED_IN, "DELETE": SIGNED_IN},
    "community_lineage:api_parents": OWNER,
    "community_lineage:api_parent": OWNER,
    "community_lineage:api_confirm_parent": OWNER,
    "community_lineage:declare_parent": OWNER,
    "community_lineage:confirm_parent": OWNER,
    "community_lineage:remove_parent": OWNER,
    "community_comments:api_comments": SIGNED_IN,
    "community_comments:api_comment": {"PATCH": OWNER, "DELETE": OWNER},
    "community_comments:api_pin": OWNER,
    "community_comments:api_reactions": {"POST": SIGNED_IN, "DELETE": SIGNED_IN},
    "community_comments:section": NO_WRITE,
    "community_comments:post": SIGNED_IN,
    "community_comments:edit": OWNER,
    "community_comments:delete": OWNER,
    "community_comments:pin": OWNER,
    "community_comments:react": SIGNED_IN,
    "moderation:queue": MODERATOR,
    "moderation:bulk": MODERATOR,
    "moderation:target": MODERATOR,
    "moderation:act": MODERATOR,
    "moderation:decision": "LRRRR",  # the owner appeals here; an empty statement is refused with a message
    "moderation:latest_decision": OWNER_OR_MODERATOR,
    "moderation:decide_appeal": "LRRRO",  # not the moderator who took the decision: an admin (another moderator) decides
    "moderation:report": SIGNED_IN,
    "moderation:claim_new": PUBLIC,  # anyone may file a copyright claim
    "moderation:claims": MODERATOR,
    "moderation:claim": OWNER_OR_MODERATOR,
    "moderation:claim_act": MODERATOR,
    "moderation:claim_counter": "LRRRR",  # the owner's counter-notice, only once the work was taken down
    "moderation:api_reports": SIGNED_IN,
    "moderation:api_actions": MODERATOR,
    "models_app:home": READS_ON_POST,
    "models_app:search": READS_ON_POST,
    "models_app:browse": READS_ON_POST,
    "models_app:create_model": SIGNED_IN,
    "models_app:tag": READS_ON_POST,
    "models_app:toggle_nsfw": PUBLIC,  # a visitor's own browsing levels (session or account)
    "models_app:model_detail": READS_ON_POST,
    "models_app:create_version": OWNER,
    "models_app:compare_versions": READS_ON_POST,
    "models_app:upload_files": OWNER,
    "models_app:publish_version": OWNER,
    "models_app:edit_model": OWNER_OR_MODERATOR,
    "models_app:unpublish_model": OWNER_OR_MODERATOR,
    "models_app:delete_model": OWNER_OR_MODERATOR,
    "models_app:edit_version": OWNER_OR_MODERATOR,
    "models_app:unlock_version": BILLING_OFF,
    "models_app:goal_form": OWNER,
    "models_app:cancel_goal": OWNER,
    "models_app:contribute_goal": BILLING_OFF,
    "models_app:fix_base_model": OWNER_OR_MODERATOR,
    "models_app:unpublish_version": OWNER_OR_MODERATOR,
    "models_app:republish_version": OWNER_OR_MODERATOR,
    "models_app:delete_version": OWNER_OR_MODERATOR,
    "models_app:delete_file": OWNER_OR_MODERATOR,
    "models_app:make_primary": OWNER_OR_MODERATOR,
    "models_app:model_detail_slug": READS_ON_POST,
    "models_app:api_models": SIGNED_IN,
    "models_app:api_model": {"PATCH": OWNER_OR_MODERATOR, "DELETE": OWNER_OR_MODERATOR},
    "models_app:api_unpublish_model": OWNER_OR_MODERATOR,
    "models_app:api_create_version": OWNER,
    "models_app:api_version": {"PATCH": OWNER_OR_MODERATOR, "DELETE": OWNER_OR_MODERATOR},
    "models_app:api_unpublish_version": OWNER_OR_MODERATOR,
    "models_app:api_file": OWNER_OR_MODERATOR,
    "models_app:api_primary_file": OWNER_OR_MODERATOR,
    "models_app:api_publish_version": OWNER,
    "models_app:api_start_upload": SIGNED_IN,
    "models_app:api_abort_upload": OWNER,
    "models_app:api_sign_part": OWNER,
    "models_app:api_complete_upload": OWNER,
    "models_app:api_local_part": "LRRRR",  # the URL carries its own signature; a forged one is refused to everyone
    "api_wildcards_expand": PUBLIC,  # computes prompts; writes nothing
    "hf_list_models": NO_WRITE,
    "hf_whoami": NO_WRITE,
    "hf_model_info_bare": NO_WRITE,
    "hf_model_info": NO_WRITE,
    "hf_model_info_revision": NO_WRITE,
    "hf_tree": NO_WRITE,
    "hf_tree_path": NO_WRITE,
    "hf_paths_info": READS_ON_POST,  # the Hub's paths-info is a POST that reads
    "hf_refs": NO_WRITE,
    "hf_commits": NO_WRITE,
    "hf_resolve": NO_WRITE,
    # API views that implement no write method (checked from their class): only GET and HEAD.
    "api_schema": NO_WRITE,
    "api_docs": NO_WRITE,
    "community:api_feed": NO_WRITE,
    "community_reviews:api_reviews": NO_WRITE,
    "community_notifications:api_list": NO_WRITE,
    "community_collections:api_user": NO_WRITE,
    "community_lineage:api_lineage": NO_WRITE,
    "moderation:api_queue": NO_WRITE,
    "moderation:api_audit": NO_WRITE,
    "models_app:api_version_files": NO_WRITE,
    "models_app:api_upload_parts": NO_WRITE,
    "resources_workflows:api_version_workflow": NO_WRITE,
    "api_version_wildcards": NO_WRITE,
    "api_wildcard_packs": NO_WRITE,
}

# What a page's form sends, where an empty form would only show "fill this in" to every role.
FORM_DATA = {
    "moderation:act": {"action": "dismiss", "reason": "Matrix check"},
    "moderation:bulk": {"action": "dismiss", "reason": "Matrix check", "target": "model:{pk}"},
    "moderation:claim_act": {"action": "reject", "note": "Matrix check"},
    "models_app:toggle_nsfw": {"show": "1"},
    "moderation:decide_appeal": {"decision": "deny", "reason": "Matrix check"},
    "community_comments:post": {"body": "Matrix comment"},
    "community_comments:edit": {"body": "Edited"},
    "community_comments:react": {"kind": "like"},
    "community_reviews:review_version": {"recommended": "yes", "text": "Good"},
    "community_lineage:declare_parent": {"parent": "{first}", "relation": "merge_of"},
}

# Django's admin: every page is for staff; the login and logout pages are open.
ADMIN_RULE = "LL"  # anonymous, moderator (signed in, not staff)
ADMIN_OPEN = {"admin:login", "admin:logout"}

Case = namedtuple("Case", "name route url method callback")


def _kwarg_names(route: str) -> list[str]:
    return re.findall(r"<(?:\w+:)?(\w+)>", route) + re.findall(r"\(\?P<(\w+)>", route)


def _write_methods(callback) -> list[str]:
    """The write methods an API view implements; a page is asked with POST."""
    cls = getattr(callback, "cls", None)  # DRF's APIView.as_view() sets .cls
    if cls is None:
        return ["post"]
    return [m for m in ("post", "put", "patch", "delete") if hasattr(cls, m)]


def _patterns():
    return list(iter_patterns())


def _cases(world):
    for route, name, callback, _ in _patterns():
        kwargs = {k: world.kwargs[k] for k in _kwarg_names(route)}
        if name.startswith("hf_") and "name" in kwargs:  # a Hugging Face repository is owner/<slug>
            kwargs["name"] = world.model.slug
        if name.startswith("community_lineage:") and "version_id" in kwargs:  # v2.0 was made from v1.0
            kwargs["version_id"] = world.second.id
        if name.endswith(":"):  # an unnamed pattern (the admin's redirects): fill its route in
            url = "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m, kw=kwargs: str(kw[m[1]]), route)
            url = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: "x/", url).replace("^", "").replace("$", "")
            name = f"{name}{route}"
        else:
            url = reverse(name, kwargs=kwargs)
        for method in _write_methods(callback):
            yield Case(name, route, url, method, callback)


def _outcome(response, role: str) -> str:
    status = response.status_code
    location = response.get("Location", "")
    if status >= 500:
        return f"5xx({status})"
    if status == 405:
        return "M"
    if status == 401 or (status in (301, 302, 303) and "/login/" in location):
        return "L"
    if status == 403 and role == "anonymous":
        return "L"
    if status in (403, 404):
        return "R"
    queued = getattr(getattr(response.wsgi_request, "_messages", None), "_queued_messages", [])
    if status in (302, 303) and any(m.level >= messages.WARNING for m in queued):
        if os.environ.get("AUTHZ_DEBUG"):  # which refusal it was, when a rule surprises
            print("refused", response.wsgi_request.path, role, [str(m) for m in queued])
        return "R"
    return "O"


def _request(client, case: Case, world):
    if getattr(case.callback, "cls", None) is not None:
        return getattr(client, case.method)(case.url, data="{}", content_type="application/json")
    data = {
        k: v.format(pk=world.model.id, first=world.version.id)
        for k, v in FORM_DATA.get(case.name, {}).items()
    }
    return client.post(case.url, data)


class Visitors:
    """One browser per role, signed in once; signed in again only when a request (a log-out, a
    password change) replaced its session."""

    def __init__(self, world):
        self.world, self.clients, self.sessions = world, {}, {}

    def client(self, role: str) -> Client:
        client = self.clients.get(role)
        if client is None:
            client = self.clients[role] = Client(raise_request_exception=False)
        cookie = client.cookies.get(settings.SESSION_COOKIE_NAME)
        if role != "anonymous" and (cookie is None or cookie.value != self.sessions.get(role)):
            client.force_login(self.world.users[role])
            self.sessions[role] = client.cookies[settings.SESSION_COOKIE_NAME].value
        return client


def _observe(visitors, case: Case, roles) -> str:
    result = ""
    for role in roles:
        cache.clear()  # rate limits start afresh (sessions live in the database)
        client = visitors.client(role)
        with transaction.atomic():
            result += _outcome(_request(client, case, visitors.world), role)
            transaction.set_rollback(True)
        if role == "anonymous":
            client.cookies.clear()
    return result


def test_every_url_pattern_is_in_the_matrix():
    missing = [
        f"new endpoint {name} ({route}): add it to the matrix in tests/test_authz_matrix.py"
        for route, name, _, _ in _patterns()
        if name not in MATRIX and not name.startswith("admin:")
    ]
    unknown = sorted(set(MATRIX) - {name for _, name, _, _ in _patterns()})
    assert not missing, "\n".join(missing)
    assert not unknown, f"the matrix names URLs that no longer exist: {unknown}"


@pytest.mark.django_db
def test_every_write_answers_each_role_as_the_matrix_says(run_on_commit):
    world = build_world(run_on_commit)
    visitors = Visitors(world)
    wrong, seen = [], {}
    for _, name, callback, _ in _patterns():
        cls = getattr(callback, "cls", None)
        if cls is not None and not _write_methods(callback) and MATRIX.get(name) != NO_WRITE:
            wrong.append(
                f"{name}: its API view implements no write method; the matrix says {MATRIX.get(name)}"
            )
    for case in _cases(world):
        if case.name.startswith("admin:"):
            continue
        rule = MATRIX.get(case.name, "?????")
        if isinstance(rule, dict):
            rule = rule.get(case.method.upper(), "?????")
        got = _observe(visitors, case, ROLES)
        seen.setdefault(case.name, {})[case.method.upper()] = got
        if got != rule:
            wrong.append(f"{case.method.upper()} {case.url} ({case.name}): expected {rule}, got {got}")
    if os.environ.get("AUTHZ_MATRIX_DUMP"):  # a helper for whoever adds endpoints: the observed table
        with open(os.environ["AUTHZ_MATRIX_DUMP"], "w") as out:
            for name, methods in seen.items():
                value = next(iter(methods.values())) if len(methods) == 1 else methods
                out.write(f"    {name!r}: {value!r},\n")
    assert not wrong, f"roles {'/'.join(ROLES)}:\n" + "\n".join(wrong)


@pytest.mark.django_db
def test_every_admin_page_is_for_staff_only(run_on_commit):
    """Django's admin checks staff itself (AdminSite.admin_view); this proves no page escapes it."""
    world = build_world(run_on_commit)
    visitors = Visitors(world)
    wrong = []
    for case in _cases(world):
        if not case.name.startswith("admin:") or case.name in ADMIN_OPEN:
            continue
        got = _observe(visitors, case, ("anonymous", "moderator"))
        if got != ADMIN_RULE:
            wrong.append(f"{case.url} ({case.name}): expected {ADMIN_RULE}, got {got}")
    assert not wrong, "\n".join(wrong)


# Pages that take a POST without Django's CSRF token, each for a reason (docs/security.md#csrf).
CSRF_EXEMPT_PAGES = {
    "billing:webhook",  # Stripe signs its webhooks; there is no session
    "civitai_versions_by_hashes",  # look-ups that write nothing, posted by tools
    "civitai_version_ids",
    "hf_paths_info",  # the Hugging Face Hub's paths-info: a POST that reads
}


def _rule_for(case: Case) -> str:
    rule = MATRIX.get(case.name, "?????")
    return rule.get(case.method.upper(), "?????") if isinstance(rule, dict) else rule


@pytest.mark.django_db
def test_session_writes_need_the_csrf_token_and_api_key_writes_do_not(run_on_commit):
    """A signed-in browser's write without the CSRF token is a 403 on every page and API view the
    owner may write to; the same API write with an API key (no cookie) needs no token."""
    from community.services import create_api_key

    world = build_world(run_on_commit)
    _, raw = create_api_key(user=world.users["owner"], name="csrf", scope="write")
    browser = Client(enforce_csrf_checks=True, raise_request_exception=False)
    browser.force_login(world.users["owner"])
    tool = Client(
        enforce_csrf_checks=True, raise_request_exception=False, headers={"Authorization": f"Bearer {raw}"}
    )
    wrong, exempt, checked = [], set(), 0
    for case in _cases(world):
        if case.name.startswith("admin:") or _rule_for(case)[1] != "O":
            continue
        is_api = getattr(case.callback, "cls", None) is not None
        if not is_api and getattr(case.callback, "csrf_exempt", False):
            exempt.add(case.name)
            continue
        cache.clear()
        with transaction.atomic():
            response = _request(browser, case, world)
            transaction.set_rollback(True)
        checked += 1
        if response.status_code != 403 or b"CSRF" not in response.content:
            wrong.append(
                f"{case.method.upper()} {case.url} ({case.name}): {response.status_code} without a CSRF token"
            )
        if is_api:
            cache.clear()
            with transaction.atomic():
                response = _request(tool, case, world)
                transaction.set_rollback(True)
            if response.status_code in (401, 403):
                wrong.append(
                    f"{case.method.upper()} {case.url} ({case.name}) with an API key: {response.status_code}"
                )
    assert checked > 50
    assert not wrong, "\n".join(wrong)
    assert exempt == CSRF_EXEMPT_PAGES, "a page that skips the CSRF check must be listed, with its reason"


@pytest.mark.django_db
def test_a_read_only_api_key_is_refused_on_every_api_write(run_on_commit):
    """Every write method of every API view, sent with the owner's read-only key, is a 403 that says
    why; only the views whose POST reads (api_key_reads) answer as for a write key."""
    from community.services import create_api_key

    world = build_world(run_on_commit)
    _, raw = create_api_key(user=world.users["owner"], name="reader", scope="read")
    tool = Client(raise_request_exception=False, headers={"Authorization": f"Bearer {raw}"})
    wrong, reads, checked = [], set(), 0
    for case in _cases(world):
        cls = getattr(case.callback, "cls", None)
        if cls is None or not cls.authentication_classes:  # a page, or a signed URL that takes no key
            continue
        cache.clear()
        with transaction.atomic():
            response = _request(tool, case, world)
            transaction.set_rollback(True)
        if getattr(cls, "api_key_reads", False):
            reads.add(case.name)
            if response.status_code == 403:
                wrong.append(f"{case.method.upper()} {case.url} ({case.name}) only reads, yet: 403")
            continue
        checked += 1
        if response.status_code != 403 or "This API key is read-only" not in response.json().get(
            "detail", ""
        ):
            wrong.append(f"{case.method.upper()} {case.url} ({case.name}): {response.status_code}")
    assert checked > 40
    assert not wrong, "\n".join(wrong)
    assert reads == {"api_wildcards_expand"}
