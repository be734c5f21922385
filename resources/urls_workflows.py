from django.urls import path

from . import workflows_api

app_name = "resources_workflows"

urlpatterns = [
    path(
        "api/hub/versions/<int:version_id>/workflow",
        workflows_api.VersionWorkflow.as_view(),
        name="api_version_workflow",
    ),
]
