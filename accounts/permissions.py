"""Role checks for views. A wrong role answers 404 where an id is involved (see views)."""

from rest_framework.permissions import BasePermission

from .models import Role


class _HasRole(BasePermission):
    roles: tuple[str, ...] = ()

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated):
            return False
        return user.role in self.roles or (Role.ADMIN in self.roles and user.is_superuser)


def role_required(*roles: str) -> type[BasePermission]:
    return type(f"Is{''.join(r.title() for r in roles)}", (_HasRole,), {"roles": tuple(roles)})


IsConsumer = role_required(Role.CONSUMER)
IsMerchant = role_required(Role.MERCHANT)
IsOperator = role_required(Role.OPERATOR)
IsAdmin = role_required(Role.ADMIN)
IsStaffMember = role_required(Role.OPERATOR, Role.ADMIN)
