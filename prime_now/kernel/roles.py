"""Roles are Django groups: one user may hold several (a picker can also be a customer).

Apps grant and revoke roles through `role_grant` / `role_revoke`; none writes the auth
tables itself (identity is the kernel's).

The staff roles work in the admin with the permissions below and nothing more (least
privilege): no role may edit users or groups, so none can raise its own rights; that is
left to a superuser (`manage.py createsuperuser`, kept out of the demo data). A permission
here is `app_label.codename`; the groups get exactly these (kernel migration 0008 made them,
and every `migrate` brings them back in line with this table, so a new model's permissions
reach its roles by editing this file).
"""

from enum import StrEnum
from typing import Any

from django.apps import apps as global_apps
from django.contrib.auth.models import Group


class Role(StrEnum):
    """The roles a user can hold, each a Django group of that name."""

    CUSTOMER = "customer"
    COURIER = "courier"
    PICKER = "picker"
    OPERATOR = "operator"
    DISPATCHER = "dispatcher"
    HUB_MANAGER = "hub_manager"
    SUPPORT = "support"


# Roles that work in the admin (their holders are staff).
STAFF_ROLES = frozenset({Role.OPERATOR, Role.DISPATCHER, Role.HUB_MANAGER, Role.SUPPORT})


def _perms(app_label: str, spec: dict[str, str]) -> frozenset[str]:
    """{"model": "view change"} → {"app.view_model", "app.change_model"}."""
    return frozenset(
        f"{app_label}.{action}_{model}"
        for model, actions in spec.items()
        for action in actions.split()
    )


# "change" on a model whose rows the admin shows read-only stands for its actions (release a
# reservation, cancel a pick job, replay a dead letter, relay an outbox event).
SUPPORT_PERMISSIONS = (
    _perms("ordering", {"order": "view change", "problemreport": "view change", "cart": "view"})
    | _perms("delivery", {"checkout": "view", "savedaddress": "view", "deliveryjob": "view"})
    | _perms("notifications", {"notification": "view", "preference": "view"})
    | _perms("catalog", {"product": "view"})
    # Customers' accounts: read them; sign a lost phone out (deleting its API token); unlock
    # a sign-in locked out after failed attempts.
    | _perms("kernel", {"user": "view", "devicetoken": "view delete"})
    | _perms("axes", {"accessattempt": "view delete"})
)

DISPATCHER_PERMISSIONS = (
    _perms(
        "delivery",
        {
            "block": "view add change",
            "courierprofile": "view add change",
            "deliveryjob": "view change",
            "trip": "view",
            "window": "view change",
            "windowhold": "view",
            "windowtemplate": "view",
        },
    )
    | _perms("fulfillment", {"hub": "view"})
    | _perms("ordering", {"order": "view"})
    | _perms("kernel", {"user": "view"})
)

# A hub manager sees and changes only the hubs they are staff of (fulfillment's admin scopes
# every hub's rows by HubStaff unless the user may `fulfillment.manage_all_hubs`).
HUB_MANAGER_PERMISSIONS = _perms(
    "fulfillment",
    {
        "hub": "view",
        "stock": "view change",
        "stockmovement": "view",
        "reservation": "view",
        "pickjob": "view change",
    },
) | _perms("catalog", {"product": "view"})

# The operator runs everything the other staff roles do, at every hub, and more.
OPERATOR_PERMISSIONS = (
    SUPPORT_PERMISSIONS
    | DISPATCHER_PERMISSIONS
    | HUB_MANAGER_PERMISSIONS
    | {"fulfillment.manage_all_hubs"}
    # Partners' API keys (issue, revoke); sign-in lockouts and their logs.
    | _perms("kernel", {"partnerkey": "view add change"})
    | _perms("axes", {"accesslog": "view", "accessfailurelog": "view"})
    | _perms(
        "catalog",
        {
            "department": "view add change",
            "category": "view add change",
            "product": "view add change",
            "pricehistory": "view",
        },
    )
    | _perms(
        "fulfillment",
        {
            "hub": "view add change",
            "openinghours": "view add change delete",
            "hubstaff": "view add change delete",  # who works at (and manages) each hub
            "postcodecentroid": "view add change",
            "reservation": "view change",
        },
    )
    | _perms("delivery", {"windowtemplate": "add change"})
    | _perms("insights", {"attempt": "view"})
    | _perms(
        "kernel",
        {
            "lever": "view change",
            "leverchange": "view",
            "fault": "view add change",
            "deadletter": "view change",
            "outboxevent": "view change",
            "handledevent": "view",
        },
    )
    | _perms("auth", {"group": "view"})
)

ROLE_PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.CUSTOMER: frozenset(),
    Role.COURIER: frozenset(),
    Role.PICKER: frozenset(),
    Role.OPERATOR: OPERATOR_PERMISSIONS,
    Role.DISPATCHER: DISPATCHER_PERMISSIONS,
    Role.HUB_MANAGER: HUB_MANAGER_PERMISSIONS,
    Role.SUPPORT: SUPPORT_PERMISSIONS,
}


def role_grant(*, user_id: int, role: Role) -> None:
    """Give the user this role (idempotent: granting a role held already changes nothing).
    A staff role makes the user staff (they sign in to the admin)."""
    group, _ = Group.objects.get_or_create(name=str(role))
    group.user_set.add(user_id)
    if role in STAFF_ROLES:
        _user_model().objects.filter(pk=user_id, is_staff=False).update(is_staff=True)


def role_revoke(*, user_id: int, role: Role) -> None:
    """Take the role away (idempotent: revoking a role not held changes nothing). A user left
    with no staff role is no longer staff (unless a superuser)."""
    group = Group.objects.filter(name=str(role)).first()
    if group is not None:
        group.user_set.remove(user_id)
    if role in STAFF_ROLES:
        still_staff = Group.objects.filter(
            user=user_id, name__in=[str(r) for r in STAFF_ROLES]
        ).exists()
        if not still_staff:
            _user_model().objects.filter(pk=user_id, is_superuser=False).update(is_staff=False)


def roles_sync(*, apps: Any = global_apps, verbosity: int = 0) -> list[str]:
    """Make each role's group hold exactly its permissions in ROLE_PERMISSIONS (creating the
    groups, and the permissions of every installed model first). Returns the permissions not
    found (a model not installed, or not migrated yet in `apps`), sorted."""
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        if apps is not global_apps:  # a migration's historical apps: models_module is unset
            app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=verbosity)
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    every = {
        f"{app_label}.{codename}": pk
        for pk, app_label, codename in permission_model.objects.values_list(
            "pk", "content_type__app_label", "codename"
        )
    }
    missing: set[str] = set()
    for role, wanted in ROLE_PERMISSIONS.items():
        group, _ = group_model.objects.get_or_create(name=str(role))
        group.permissions.set([every[name] for name in wanted if name in every])
        missing |= wanted - every.keys()
    return sorted(missing)


def _user_model() -> Any:
    from django.contrib.auth import get_user_model

    return get_user_model()
