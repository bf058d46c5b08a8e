from celery import shared_task

from .idempotency import purge_expired_keys


@shared_task(name="core.purge_idempotency_keys")
def purge_idempotency_keys() -> int:
    return purge_expired_keys()
