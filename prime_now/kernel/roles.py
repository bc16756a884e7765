"""Roles are Django groups: one user may hold several (a picker can also be a customer).

Apps grant and revoke roles through `role_grant` / `role_revoke`; none writes the auth
tables itself (identity is the kernel's).
"""

from enum import StrEnum

from django.contrib.auth.models import Group


class Role(StrEnum):
    """The roles a user can hold, each a Django group of that name."""

    CUSTOMER = "customer"
    COURIER = "courier"
    PICKER = "picker"
    OPERATOR = "operator"


def role_grant(*, user_id: int, role: Role) -> None:
    """Give the user this role (idempotent: granting a role held already changes nothing)."""
    group, _ = Group.objects.get_or_create(name=str(role))
    group.user_set.add(user_id)


def role_revoke(*, user_id: int, role: Role) -> None:
    """Take the role away (idempotent: revoking a role not held changes nothing)."""
    group = Group.objects.filter(name=str(role)).first()
    if group is not None:
        group.user_set.remove(user_id)
