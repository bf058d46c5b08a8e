from datetime import date

from django.core.management.base import BaseCommand, CommandError

from core.errors import DomainError
from ledger.reconciliation import reconcile, reconcile_from_provider


class Command(BaseCommand):
    help = ("Match a provider's settlement file for one day against the ledger; without --file the file is "
            "fetched from the provider. Lists the mismatches; exit 1 if there are any.")

    def add_arguments(self, parser):
        parser.add_argument("--provider", default="sandbox")
        parser.add_argument("--date", required=True, type=date.fromisoformat, help="YYYY-MM-DD (Asia/Shanghai day)")
        parser.add_argument("--file", help="the settlement file (CSV)")

    def handle(self, *args, provider, date, file=None, **options):
        try:
            if file:
                with open(file, "rb") as handle:
                    run = reconcile(provider=provider, day=date, data=handle.read(), file_name=file)
            else:
                run = reconcile_from_provider(provider=provider, day=date)
        except DomainError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"{run}: {run.provider_rows} provider transactions, {run.matched} matched, "
                          f"{run.mismatched} mismatches; net provider {run.provider_total}, ledger {run.ledger_total}")
        for mismatch in run.mismatches.all():
            self.stdout.write(f"  {mismatch.kind} {mismatch.key} {mismatch.transaction_id} "
                              f"provider={mismatch.provider_amount} ledger={mismatch.ledger_amount} {mismatch.note}")
        if run.mismatched:
            raise CommandError(f"{run.mismatched} mismatch(es)")
