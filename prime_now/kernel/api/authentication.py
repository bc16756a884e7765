"""API authentication: DRF's token scheme, with a cheaper lookup.

Every token-authenticated API call looks its token up; DRF builds that query with the ORM each
time (`select_related("user").get(key=...)`). On PostgreSQL the same join goes as one
ready-made statement and the user is built from the row, which is most of the cost saved.
Same answers, same errors, same `request.user`/`request.auth` as DRF's class.

A token found is remembered by the process for CACHE_SECONDS (the `local` cache), so a client
making calls in a row costs one lookup, not one per call. Deleting the token, or saving or
deleting its user, forgets it in the process that does it; other processes may accept it for
up to CACHE_SECONDS more, as every process may after a bulk `QuerySet.update()` (no signal).
What must not be stale is checked again where it matters: placing an order re-checks in the
database that the customer is active.
"""

import hashlib

from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.db import connections, router, transaction
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token, TokenProxy

CACHE_SECONDS = 5


def _cache_key(key: str) -> str:
    # Hashed: the header's value is the client's and may not be a valid cache key.
    return "auth-token:" + hashlib.sha256(key.encode()).hexdigest()


def forget(keys) -> None:
    """Drop these tokens from this process's memory of recent lookups: now, and again once
    the transaction commits (a lookup running meanwhile in another thread of this process may
    have put the old answer back)."""
    cache_keys = [_cache_key(key) for key in keys]
    caches["local"].delete_many(cache_keys)
    transaction.on_commit(lambda: caches["local"].delete_many(cache_keys))


def _forget_token(sender, instance, **kwargs) -> None:
    forget([instance.key])  # deleted, or saved (the admin may give it to another user)


def _forget_users_tokens(sender, instance, update_fields=None, created=False, **kwargs) -> None:
    if created or (update_fields is not None and set(update_fields) <= {"last_login"}):
        return  # a new user has no token; a sign-in changes nothing authentication answers
    forget(Token.objects.filter(user_id=instance.pk).values_list("key", flat=True))


def connect_signals() -> None:
    # A deleted user's tokens are deleted with it, each forgotten by _forget_token.
    for model in (Token, TokenProxy):  # the admin edits tokens through DRF's proxy
        for signal in (post_save, post_delete):
            signal.connect(
                _forget_token, sender=model, dispatch_uid=f"auth-forget-{model.__name__}"
            )
    post_save.connect(_forget_users_tokens, sender=get_user_model(), dispatch_uid="auth-user")


class TokenAuthentication(authentication.TokenAuthentication):
    _statement: tuple | None = None

    def _compiled(self, model, alias: str):
        if self._statement is None or self._statement[0] != alias:
            user_model = get_user_model()
            connection = connections[alias]
            quote = connection.ops.quote_name
            user_fields = user_model._meta.concrete_fields
            token_fields = model._meta.concrete_fields
            columns = [f"t.{quote(f.column)}" for f in token_fields] + [
                f"u.{quote(f.column)}" for f in user_fields
            ]
            sql = (
                f"SELECT {', '.join(columns)} FROM {quote(model._meta.db_table)} t "
                f"JOIN {quote(user_model._meta.db_table)} u "
                f"ON u.{quote(user_model._meta.pk.column)} = "
                f"t.{quote(model._meta.get_field('user').column)} "
                f"WHERE t.{quote(model._meta.pk.column)} = %s"
            )
            converters = [
                (
                    position,
                    [
                        *connection.ops.get_db_converters(f.cached_col),
                        *f.cached_col.get_db_converters(connection),
                    ],
                )
                for position, f in enumerate([*token_fields, *user_fields])
            ]
            converters = [(p, found) for p, found in converters if found]
            type(self)._statement = (
                alias,
                sql,
                [f.attname for f in token_fields],
                [f.attname for f in user_fields],
                converters,
                [f.cached_col for f in [*token_fields, *user_fields]],
            )
        return self._statement

    def authenticate_credentials(self, key):
        # What the cache gives back is unpickled: this request's own user and token.
        cache_key = _cache_key(key)
        found = caches["local"].get(cache_key)
        if found is None:
            found = self._look_up(key)
            caches["local"].set(cache_key, found, CACHE_SECONDS)
        return found

    def _look_up(self, key):
        model = self.get_model()
        alias = router.db_for_read(model)
        connection = connections[alias]
        if connection.vendor != "postgresql":
            return super().authenticate_credentials(key)
        _alias, sql, token_names, user_names, converters, fields = self._compiled(model, alias)
        with connection.cursor() as cursor:
            cursor.execute(sql, [key])
            row = cursor.fetchone()
        if row is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if converters:
            row = list(row)
            for position, found in converters:
                for converter in found:
                    row[position] = converter(row[position], fields[position], connection)
        split = len(token_names)
        user = get_user_model().from_db(alias, user_names, row[split:])
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        token = model.from_db(alias, token_names, row[:split])
        token.user = user
        return (user, token)
