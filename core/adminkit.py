"""What every staff screen shares: audit-trail inlines, reasoned bulk decisions, county scoping.

Admin actions call the same domain services as the API, one object at a time, so a refusal
(a ``DomainError``) is reported for that row while the others go through.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.utils.translation import gettext_lazy as _

from .errors import DomainError


class ReasonActionForm(ActionForm):
    """The action bar with a free-text reason, passed to decisions that record one."""

    reason = forms.CharField(label=_("reason"), required=False, max_length=500)


class AuditInline(admin.TabularInline):
    """A read-only trail of events under the object they belong to: nothing added, changed or deleted."""

    extra = 0
    can_delete = False
    fields = ("created_at", "actor", "from_status", "to_status", "reason")

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None):
        return False


def run_decisions(modeladmin, request, queryset, call) -> None:
    """Apply ``call(obj, reason)`` to each selected row; report each refusal instead of stopping."""
    reason = request.POST.get("reason", "")
    done = 0
    for obj in queryset:
        try:
            call(obj, reason)
            done += 1
        except DomainError as error:
            modeladmin.message_user(request, f"{obj}: {error.message} {error.fields or ''}".rstrip(), messages.ERROR)
    if done:
        modeladmin.message_user(request, _("%(n)s done.") % {"n": done}, messages.SUCCESS)


def decision_actions(prefix: str, labels: dict, call) -> list:
    """One admin action per decision in ``labels``; each runs ``call(obj, request, decision, reason)``."""

    def make(decision, label):
        def action(modeladmin, request, queryset):
            run_decisions(modeladmin, request, queryset,
                          lambda obj, reason: call(obj, request=request, decision=decision, reason=reason))

        action.__name__ = f"{prefix}_{decision}"
        action.short_description = label
        return action

    return [make(decision, label) for decision, label in labels.items()]


def county_scoped(queryset, request, county_field: str):
    """An operator using the admin sees only its county; platform admins see all."""
    user = request.user
    if user.is_platform_admin:
        return queryset
    if user.is_operator:
        return queryset.filter(**{county_field: user.county_id})
    return queryset.none()


class ReadOnlyAdmin(admin.ModelAdmin):
    """A screen to look at records nobody may add, change or delete here (books, audit rows)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
