"""Load real-looking demo data. Safe to run again: it changes nothing the second time.

Each app that has demo data provides ``<app>/demo.py`` with ``seed(report)``;
they run in INSTALLED_APPS order, so an app can use what earlier ones seeded.
"""

import importlib
import importlib.util

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction


class Report:
    def __init__(self, stdout, style):
        self.stdout = stdout
        self.style = style
        self.created = 0
        self.existing = 0

    def record(self, obj, created: bool) -> None:
        label = f"{obj._meta.verbose_name}: {obj}"
        if created:
            self.created += 1
            self.stdout.write(self.style.SUCCESS(f"  created {label}"))
        else:
            self.existing += 1

    def note(self, text: str) -> None:
        self.stdout.write(f"  {text}")


class Command(BaseCommand):
    help = "Load demo counties, hubs, operators and (as apps add them) merchants, products and streams."

    def handle(self, *args, **options):
        report = Report(self.stdout, self.style)
        for config in apps.get_app_configs():
            module_name = f"{config.name}.demo"
            if importlib.util.find_spec(module_name) is None:
                continue
            self.stdout.write(self.style.MIGRATE_HEADING(f"{config.verbose_name}"))
            with transaction.atomic():
                importlib.import_module(module_name).seed(report)
        self.stdout.write(self.style.SUCCESS(f"seed_demo: {report.created} created, {report.existing} already there."))
