"""Offline evaluation of the recommender against popularity and random (docs/insights.md).

    manage.py insights_evaluate                 # this deployment's interactions
    manage.py insights_evaluate --synthetic     # a generated log with planted structure (CI)
"""

import time

from django.core.management.base import BaseCommand, CommandError

from insights.recommender import evaluation, synthetic
from insights.recommender.data import load_catalogue, load_interactions


class Command(BaseCommand):
    help = "Recall@10 and NDCG@10 of the recommender, of popularity and of random on a time split."

    def add_arguments(self, parser):
        parser.add_argument("--test-days", type=int, default=14, help="the last N days are the test window")
        parser.add_argument("--synthetic", action="store_true", help="evaluate on a generated log instead")
        parser.add_argument("--buyers", type=int, default=1200)
        parser.add_argument("--products", type=int, default=360)
        parser.add_argument("--seed", type=int, default=20)

    def handle(self, *args, **options):
        if not 1 <= options["test_days"] <= 90:
            raise CommandError("--test-days must be between 1 and 90")
        started = time.monotonic()
        if options["synthetic"]:
            catalogue, log, end = synthetic.generate(buyers=options["buyers"], items=options["products"],
                                                     seed=options["seed"])
        else:
            catalogue, log = load_catalogue(), load_interactions()
            if not log:
                raise CommandError("no interactions kept yet")
            end = log[-1].at + 1
        rows = evaluation.evaluate(catalogue, log, test_days=options["test_days"], end=end)
        self.stdout.write(f"{len(log)} interactions, {len(catalogue.items)} products, "
                          f"test window {options['test_days']} days, {time.monotonic() - started:.1f} s")
        self.stdout.write(evaluation.table(rows))
