from celery import shared_task

from . import reconciliation
from .services import negative_balances_flag, releases_due


@shared_task(name="ledger.release_due")
def release_due() -> int:
    return releases_due()


@shared_task(name="ledger.flag_negative_balances")
def flag_negative_balances() -> int:
    return negative_balances_flag()


@shared_task(name="ledger.reconcile_yesterday")
def reconcile_yesterday() -> int:
    return reconciliation.reconcile_yesterday()
