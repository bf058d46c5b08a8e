"""Role checks for views.

On a route that names an object (its path carries an id or a code), a signed-in caller of the
wrong role answers 404, exactly as for an object that does not exist: what is not yours is not
there (docs/security.md, API1). Without an object in the path a wrong role answers 403, and an
anonymous caller always answers 401. A view whose path carries only a parameter that is no object
(a month of the caller's own statement) says so with ``path_names_object = False``: 403 too.
"""

from rest_framework.permissions import BasePermission

from core.errors import NotFound

from .models import Role


class _HasRole(BasePermission):
    roles: tuple[str, ...] = ()

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if user.role in self.roles or (Role.ADMIN in self.roles and user.is_superuser):
            return True
        if getattr(view, "kwargs", None) and getattr(view, "path_names_object", True):
            raise NotFound()
        return False


def role_required(*roles: str) -> type[BasePermission]:
    return type(f"Is{''.join(r.title() for r in roles)}", (_HasRole,), {"roles": tuple(roles)})


IsConsumer = role_required(Role.CONSUMER)
IsMerchant = role_required(Role.MERCHANT)
IsOperator = role_required(Role.OPERATOR)
IsAdmin = role_required(Role.ADMIN)
IsStaffMember = role_required(Role.OPERATOR, Role.ADMIN)
# Scanning parcels and carrying runs (logistics/api.py): operators, couriers and admins. Every other
# staff screen (vetting, reviews, disputes, queues, planning, the fleet) stays IsStaffMember.
IsLogisticsWorker = role_required(Role.OPERATOR, Role.COURIER, Role.ADMIN)
