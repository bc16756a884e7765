from fulfillment import services
from prime_now.kernel.batch import SingleRunCommand


class Command(SingleRunCommand):
    help = "Release stock holds past their time (the beat task does this every 30 s)."

    def handle(self, *args, **options):
        count = services.reservations_expire()
        self.stdout.write(f"{count} expired hold(s) released")
