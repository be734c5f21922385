from django.urls import path

from . import api, early_access_views, funding_views, views

app_name = "models_app"

urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    path("models/", views.browse, name="browse"),
    path("models/new", views.create_model, name="create_model"),
    path("tag/<path:tag>", views.tag_page, name="tag"),  # path: "sd1.5/anime" works as its safe form
    path("preferences/nsfw", views.toggle_nsfw, name="toggle_nsfw"),
    path("models/<int:pk>", views.model_detail, name="model_detail"),
    path("models/<int:pk>/versions/new", views.create_version, name="create_version"),
    path("models/<int:pk>/compare", views.compare_versions, name="compare_versions"),
    path("models/<int:pk>/versions/<int:version_id>/files", views.upload_files, name="upload_files"),
    path("models/<int:pk>/versions/<int:version_id>/publish", views.publish_version, name="publish_version"),
    path("models/<int:pk>/edit", views.edit_model, name="edit_model"),
    path("models/<int:pk>/unpublish", views.unpublish_model, name="unpublish_model"),
    path("models/<int:pk>/delete", views.delete_model, name="delete_model"),
    path("models/<int:pk>/versions/<int:version_id>/edit", views.edit_version, name="edit_version"),
    path(
        "models/<int:pk>/versions/<int:version_id>/unlock", early_access_views.unlock, name="unlock_version"
    ),
    path("models/<int:pk>/goal", funding_views.goal_form, name="goal_form"),
    path("models/<int:pk>/goals/<int:goal_id>/cancel", funding_views.cancel_goal, name="cancel_goal"),
    path("models/<int:pk>/goals/<int:goal_id>/contribute", funding_views.contribute, name="contribute_goal"),
    path(
        "models/<int:pk>/versions/<int:version_id>/fix-base-model",
        views.fix_base_model,
        name="fix_base_model",
    ),
    path(
        "models/<int:pk>/versions/<int:version_id>/unpublish",
        views.unpublish_version,
        name="unpublish_version",
    ),
    path(
        "models/<int:pk>/versions/<int:version_id>/republish",
        views.republish_version,
        name="republish_version",
    ),
    path("models/<int:pk>/versions/<int:version_id>/delete", views.delete_version, name="delete_version"),
    path("models/<int:pk>/files/<int:file_id>/delete", views.delete_file, name="delete_file"),
    path("models/<int:pk>/files/<int:file_id>/primary", views.make_primary, name="make_primary"),
    path("models/<int:pk>/<str:slug>", views.model_detail, name="model_detail_slug"),
    # The hub's own API for creators and scripts (models_app/api.py).
    path("api/hub/models", api.models_collection, name="api_models"),
    path("api/hub/models/<int:model_id>", api.ManageModel.as_view(), name="api_model"),
    path("api/hub/models/<int:model_id>/unpublish", api.UnpublishModel.as_view(), name="api_unpublish_model"),
    path("api/hub/models/<int:model_id>/versions", api.CreateVersion.as_view(), name="api_create_version"),
    path("api/hub/versions/<int:version_id>", api.ManageVersion.as_view(), name="api_version"),
    path(
        "api/hub/versions/<int:version_id>/unpublish",
        api.UnpublishVersion.as_view(),
        name="api_unpublish_version",
    ),
    path("api/hub/files/<int:file_id>", api.ManageFile.as_view(), name="api_file"),
    path("api/hub/files/<int:file_id>/primary", api.PrimaryFile.as_view(), name="api_primary_file"),
    path(
        "api/hub/versions/<int:version_id>/publish", api.PublishVersion.as_view(), name="api_publish_version"
    ),
    path("api/hub/versions/<int:version_id>/files", api.VersionFiles.as_view(), name="api_version_files"),
    path("api/hub/uploads", api.StartUpload.as_view(), name="api_start_upload"),
    path("api/hub/uploads/<int:file_id>", api.AbortUpload.as_view(), name="api_abort_upload"),
    path("api/hub/uploads/<int:file_id>/parts", api.UploadParts.as_view(), name="api_upload_parts"),
    path(
        "api/hub/uploads/<int:file_id>/parts/<int:part_number>", api.SignPart.as_view(), name="api_sign_part"
    ),
    path("api/hub/uploads/<int:file_id>/complete", api.CompleteUpload.as_view(), name="api_complete_upload"),
    path("api/hub/parts/<str:token>", api.LocalPartUpload.as_view(), name="api_local_part"),
]
