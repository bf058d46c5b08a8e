"""Write the sandbox provider's settlement file of one day, as a real provider's bill API hands it out."""

from datetime import datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from payments.providers import SupportsSettlementFile, UnknownProvider, get_provider


class Command(BaseCommand):
    help = ("Write the sandbox provider's settlement file of one day (Asia/Shanghai) to stdout or a file "
            "(format: docs/orders-payments.md, 'Provider settlement file').")

    def add_arguments(self, parser):
        parser.add_argument("--date", required=True, dest="day", help="the day, YYYY-MM-DD (China Standard Time)")
        parser.add_argument("--output", help="write to this path instead of stdout")

    def handle(self, *args, day: str, output: str | None, **options):
        try:
            when = datetime.strptime(day, "%Y-%m-%d").date()
        except ValueError:
            raise CommandError(f"--date must be YYYY-MM-DD, not {day!r}.") from None
        try:
            provider = get_provider("sandbox")
        except UnknownProvider:
            raise CommandError("The sandbox provider is not in PAYMENT_PROVIDERS.") from None
        if not isinstance(provider, SupportsSettlementFile):
            raise CommandError("The configured sandbox provider writes no settlement file.")
        data = provider.settlement_file(when)
        if not output:
            self.stdout.write(data.decode("utf-8"), ending="")
            return
        try:
            Path(output).write_bytes(data)
        except OSError as error:
            raise CommandError(f"Cannot write {output}: {error}") from None
        rows = data.count(b"\n") - 1
        self.stderr.write(f"{output}: {rows} transactions of {when.isoformat()}")
