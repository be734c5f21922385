"""The Hugging Face Hub read API (views.py), included at the site root by hub/urls.py.

The `/<namespace>/<name>/resolve/...` pattern matches almost any path of five segments or more, so
hub/urls.py includes `resolve_urlpatterns` last: the hub's own pages always win, and the namespaces
they use are reserved (hf_repos.RESERVED_NAMESPACES).
"""

from django.urls import path

from . import views

REPO = "api/models/<str:namespace>/<str:name>"

urlpatterns = [
    path("api/models", views.list_models, name="hf_list_models"),
    path("api/whoami-v2", views.whoami, name="hf_whoami"),
    # A repo id without a namespace ("gpt2"): none exists here, but the client should hear RepoNotFound.
    path("api/models/<str:name>", views.model_info, {"namespace": ""}, name="hf_model_info_bare"),
    path(REPO, views.model_info, name="hf_model_info"),
    # <path:> so that an encoded "/" (refs%2Fpr%2F1, decoded before routing) still reaches the view,
    # which answers RevisionNotFound.
    path(f"{REPO}/revision/<path:revision>", views.model_info, name="hf_model_info_revision"),
    path(f"{REPO}/tree/<str:revision>", views.repo_tree, name="hf_tree"),
    path(f"{REPO}/tree/<str:revision>/<path:path>", views.repo_tree, name="hf_tree_path"),
    path(f"{REPO}/paths-info/<str:revision>", views.paths_info, name="hf_paths_info"),
    path(f"{REPO}/refs", views.repo_refs, name="hf_refs"),
    path(f"{REPO}/commits/<str:revision>", views.repo_commits, name="hf_commits"),
]

resolve_urlpatterns = [
    path(
        "<str:namespace>/<str:name>/resolve/<str:revision>/<path:filename>",
        views.resolve_file,
        name="hf_resolve",
    ),
]
