"""The API tokens page's reads: a project's tokens, with who created and revoked them."""

from __future__ import annotations

from django.db.models import QuerySet

from findings.models import ApiToken, Project


def project_tokens(*, project: Project) -> QuerySet[ApiToken]:
    """Every token of a project (revoked ones too), with its creator and revoker."""
    return ApiToken.objects.filter(project=project).select_related("created_by", "revoked_by")


def project_token(*, project: Project, pk: int) -> ApiToken | None:
    """The project's token ``pk``; None when the project has no such token."""
    return ApiToken.objects.filter(project=project, pk=pk).first()
