"""Seal every sealed field again with the newest key of FIELD_ENCRYPTION_KEYS (after adding a key)."""

from django.apps import apps
from django.core.management.base import BaseCommand

from core.sealing import SealedCharField


class Command(BaseCommand):
    help = "Re-seal personal numbers with the first key of FIELD_ENCRYPTION_KEYS, so older keys can be dropped."

    def handle(self, *args, **options):
        for model in apps.get_models():
            fields = [f.name for f in model._meta.concrete_fields if isinstance(f, SealedCharField)]
            if not fields:
                continue
            done = 0
            for obj in model._default_manager.only("pk", *fields).iterator(chunk_size=500):
                # Reading opened each value with whichever key sealed it; writing seals with the newest.
                model._default_manager.filter(pk=obj.pk).update(**{name: getattr(obj, name) for name in fields})
                done += 1
            self.stdout.write(f"{model._meta.label}: {done} row(s) resealed ({', '.join(fields)})")
