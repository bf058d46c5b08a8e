from django.core.management.base import BaseCommand, CommandError

from ledger.checks import ledger_check


class Command(BaseCommand):
    help = "Check the ledger's invariants (every posting and the whole ledger sum to zero); exit 1 on a problem."

    def handle(self, *args, **options):
        report = ledger_check()
        self.stdout.write(f"{report.entries} entries in {report.postings} postings, sum {report.total}")
        if not report.ok:
            for problem in report.problems:
                self.stderr.write(problem)
            raise CommandError(f"{len(report.problems)} problem(s) in the ledger")
        self.stdout.write(self.style.SUCCESS("ledger ok"))
