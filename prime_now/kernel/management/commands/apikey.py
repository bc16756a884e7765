"""Partner API keys for scripts: `manage.py apikey create|list|revoke`.

    manage.py apikey create --account acme --name "Acme shop" --scope catalog:read \
        --scope orders:write [--expires-days 90]
    manage.py apikey list [--all]
    manage.py apikey revoke PREFIX

`create` prints the key once (only its prefix and hash are kept).
"""

from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from prime_now.kernel.errors import ApplicationError
from prime_now.kernel.models import ApiScope, PartnerKey
from prime_now.kernel.partner_keys import key_issue, key_revoke


class Command(BaseCommand):
    help = "Create, list or revoke partner API keys."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="issue a key; it is printed once")
        create.add_argument("--account", required=True, help="the partner account's username")
        create.add_argument("--name", required=True, help="what the key is for (≤ 50 chars)")
        create.add_argument(
            "--scope",
            action="append",
            required=True,
            choices=ApiScope.values,
            help="a scope the key holds (repeat for several)",
        )
        create.add_argument("--expires-days", type=int, help="expires this many days from now")
        listing = actions.add_parser("list", help="the keys not revoked (--all: every one)")
        listing.add_argument("--all", action="store_true")
        revoke = actions.add_parser("revoke", help="revoke a key for good")
        revoke.add_argument("prefix", help="the key's prefix (the part before the dot)")

    def handle(self, *args: Any, **options: Any) -> None:
        {"create": self.create, "list": self.list, "revoke": self.revoke}[options["action"]](
            options
        )

    def create(self, options: dict[str, Any]) -> None:
        name = options["name"].strip()
        if not 1 <= len(name) <= 50:
            raise CommandError("--name must be 1 to 50 characters.")
        account = get_user_model().objects.filter(username=options["account"]).first()
        if account is None or not account.is_active:
            raise CommandError(f"No active user named {options['account']!r}.")
        days = options["expires_days"]
        if days is not None and days < 1:
            raise CommandError("--expires-days must be at least 1.")
        expires_at = timezone.now() + timedelta(days=days) if days else None
        key, plain = key_issue(
            account=account, name=name, scopes=options["scope"], expires_at=expires_at
        )
        self.stdout.write(plain)
        self.stderr.write(
            f"Key {key.prefix} ({', '.join(key.scopes)}) for {account.get_username()}: store "
            "it now, it is not shown again."
        )

    def list(self, options: dict[str, Any]) -> None:
        keys = PartnerKey.objects.select_related("account").order_by("created")
        if not options["all"]:
            keys = keys.filter(revoked=False)
        for key in keys:
            state = "revoked" if key.revoked else "expired" if key.has_expired else "active"
            expires = f"{key.expiry_date:%Y-%m-%d %H:%M}" if key.expiry_date else "never"
            used = f"{key.last_used:%Y-%m-%d %H:%M}" if key.last_used else "never"
            self.stdout.write(
                f"{key.prefix}\t{state}\t{key.name}\t{key.account.get_username()}"
                f"\t{','.join(key.scopes)}\texpires {expires}\tlast used {used}"
            )
        self.stdout.write(f"{len(keys)} key(s).")

    def revoke(self, options: dict[str, Any]) -> None:
        try:
            key = key_revoke(prefix=options["prefix"])
        except ApplicationError as error:
            raise CommandError(error.message) from None
        self.stdout.write(self.style.SUCCESS(f"Revoked {key.prefix} ({key.name})."))
