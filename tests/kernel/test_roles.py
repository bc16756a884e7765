"""Roles are granted and revoked through the kernel's functions."""

import pytest

from prime_now.kernel.roles import Role, role_grant, role_revoke
from tests.kernel.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_a_granted_role_is_held():
    user = UserFactory()

    role_grant(user_id=user.pk, role=Role.COURIER)

    assert user.has_role(Role.COURIER)
    assert not user.has_role(Role.PICKER)


def test_granting_a_role_twice_keeps_one_membership():
    user = UserFactory(roles=[Role.COURIER])

    role_grant(user_id=user.pk, role=Role.COURIER)

    assert user.roles == [Role.COURIER]


def test_a_revoked_role_is_no_longer_held_and_the_others_stay():
    user = UserFactory(roles=[Role.COURIER, Role.CUSTOMER])

    role_revoke(user_id=user.pk, role=Role.COURIER)

    assert user.roles == [Role.CUSTOMER]


def test_revoking_a_role_not_held_changes_nothing():
    user = UserFactory(roles=[Role.CUSTOMER])

    role_revoke(user_id=user.pk, role=Role.PICKER)

    assert user.roles == [Role.CUSTOMER]
