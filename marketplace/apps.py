from django.contrib.admin.apps import AdminConfig


class CunboAdminConfig(AdminConfig):
    """django.contrib.admin whose default site is ``CunboAdminSite`` (its sign-in is guarded)."""

    default_site = "marketplace.admin_site.CunboAdminSite"
