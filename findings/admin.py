"""The admin: members and projects are managed here; the audit log and reviews are read-only.

Events and reviews can be viewed, never added, changed or deleted (the database refuses too,
see migration 0011). Projects are never deleted: their events must outlive them; to retire a
project, remove its members (site admins still see it).
"""

from __future__ import annotations

from django.contrib import admin

from findings import services
from findings.models import Event, Membership, Project, Review, Role


class ReadOnlyAdmin(admin.ModelAdmin):
    """View-only: no add, change or delete, and no bulk actions."""

    actions = None

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "project", "finding", "action", "before", "after", "actor")
    list_filter = ("action",)
    list_select_related = ("project", "finding__project", "actor")
    search_fields = ("note",)


@admin.register(Review)
class ReviewAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "project", "finding", "verdict", "reviewer", "evidence_level")
    list_filter = ("verdict",)
    list_select_related = ("project", "finding__project", "reviewer")


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ("key", "name", "created_at")
    search_fields = ("key", "name")
    fields = ("key", "name", "repo_path", "default_branch")
    actions = None

    def get_readonly_fields(self, request, obj=None):
        # Finding keys (LILY-42) are cited in commits and documents: a key never changes.
        return ("key",) if obj is not None else ()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("project", "user", "role", "created_at")
    list_filter = ("role", "project")
    actions = None

    def get_readonly_fields(self, request, obj=None):
        return ("project", "user") if obj is not None else ()

    def save_model(self, request, obj, form, change) -> None:
        # Through the service, so the audit log records who changed whose role.
        saved = services.membership_set(
            project=obj.project, user=obj.user, role=Role(obj.role), actor=request.user
        )
        obj.pk = saved.pk

    def delete_model(self, request, obj) -> None:
        services.membership_remove(project=obj.project, user=obj.user, actor=request.user)
