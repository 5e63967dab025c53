"""/api/v1/ routes of the generation app (included by moderation/api/urls.py)."""

from django.urls import path, re_path

from generation.api import views
from generation.selectors import GENERATION_ID_PATTERN

_ONE = rf"^generations/(?P<generation_id>{GENERATION_ID_PATTERN})"

urlpatterns = [
    path("generations", views.GenerationListCreateApi.as_view(), name="api-generations"),
    path("generations/engines", views.GenerationEnginesApi.as_view(), name="api-generation-engines"),
    re_path(rf"{_ONE}$", views.GenerationDetailApi.as_view(), name="api-generation-detail"),
    re_path(rf"{_ONE}/result$", views.GenerationResultApi.as_view(), name="api-generation-result"),
    re_path(
        rf"{_ONE}/regenerate$", views.GenerationRegenerateApi.as_view(), name="api-generation-regenerate"
    ),
    path(
        "protected-identities",
        views.ProtectedIdentityListCreateApi.as_view(),
        name="api-protected-identities",
    ),
    path(
        "protected-identities/<uuid:identity_id>",
        views.ProtectedIdentityDetailApi.as_view(),
        name="api-protected-identity-detail",
    ),
]
