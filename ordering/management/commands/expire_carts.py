from ordering import services
from prime_now.kernel.batch import SingleRunCommand


class Command(SingleRunCommand):
    help = "Delete guest carts and user carts idle past their time to live (see docs/ordering.md)."

    def handle(self, *args, **options):
        deleted = services.carts_expire()
        self.stdout.write(self.style.SUCCESS(f"Expired {deleted} cart(s)."))
