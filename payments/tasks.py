from celery import shared_task

from .services import payments_query_stuck, refund_submit, refunds_retry, wechatpay_certificates_refresh


@shared_task(name="payments.refund_submit")
def refund_submit_task(refund_id: int) -> str:
    return refund_submit(refund_id=refund_id).status


@shared_task(name="payments.retry_refunds")
def retry_refunds() -> int:
    return refunds_retry()


@shared_task(name="payments.query_stuck")
def query_stuck() -> dict[str, int]:
    return payments_query_stuck()


@shared_task(name="payments.wechatpay_certificates")
def wechatpay_certificates() -> list[str]:
    return wechatpay_certificates_refresh()
