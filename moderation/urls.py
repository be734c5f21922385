from django.urls import path

from . import api, claim_views, views

app_name = "moderation"

urlpatterns = [
    path("moderation/", views.queue, name="queue"),
    path("moderation/bulk", views.bulk, name="bulk"),
    path("moderation/t/<str:target_type>/<int:target_id>", views.target_detail, name="target"),
    path("moderation/t/<str:target_type>/<int:target_id>/act", views.act, name="act"),
    path("moderation/decisions/<int:action_id>", views.decision, name="decision"),
    path(
        "moderation/decisions/for/<str:target_type>/<int:target_id>",
        views.latest_decision,
        name="latest_decision",
    ),
    path("moderation/appeals/<int:appeal_id>/decide", views.decide_appeal, name="decide_appeal"),
    path("report/<str:target_type>/<int:target_id>", views.report, name="report"),
    path("claims/<str:target_type>/<int:target_id>", claim_views.claim_new, name="claim_new"),
    path("moderation/claims/", claim_views.claim_list, name="claims"),
    path("moderation/claims/<int:claim_id>", claim_views.claim_detail, name="claim"),
    path("moderation/claims/<int:claim_id>/act", claim_views.claim_act, name="claim_act"),
    path("moderation/claims/<int:claim_id>/counter", claim_views.claim_counter, name="claim_counter"),
    path("api/hub/reports", api.Reports.as_view(), name="api_reports"),
    path("api/hub/moderation/queue", api.Queue.as_view(), name="api_queue"),
    path("api/hub/moderation/actions", api.Actions.as_view(), name="api_actions"),
    path("api/hub/moderation/audit", api.Audit.as_view(), name="api_audit"),
]
