from celery import shared_task

from . import services


@shared_task(name="payouts.build_batch")
def build_batch() -> int:
    batch = services.batch_build()
    return batch.payout_count if batch else 0


@shared_task(name="payouts.transfer", acks_late=True)
def transfer_task(payout_id: int) -> None:
    services.payout_transfer(payout_id=payout_id)


@shared_task(name="payouts.retry_transfers")
def retry_transfers() -> int:
    return services.transfers_retry()


@shared_task(name="payouts.query_sent")
def query_sent() -> int:
    return services.sent_query()
