import factory
from django.contrib.auth import get_user_model

from prime_now.kernel.roles import Role, role_grant

PASSWORD = "correct-horse-battery"  # every UserFactory user's


class UserFactory(factory.django.DjangoModelFactory):
    """A user; `UserFactory(roles=["courier"])` grants them those roles."""

    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        for name in extracted or ():
            role_grant(user_id=self.pk, role=Role(name))


def partner_key(*scopes: str, account=None, name: str = "Acme shop", **fields):
    """A partner API key holding these scopes (default: all), for `account` (default: a new
    partner account); returns (key, plain key). Send it as `Authorization: Api-Key <plain>`."""
    from prime_now.kernel.partner_keys import ApiScope, key_issue

    account = account or UserFactory()
    return key_issue(account=account, name=name, scopes=scopes or ApiScope.values, **fields)
