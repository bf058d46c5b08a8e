"""`check --deploy`: which payment channels this deployment can take money through."""

from django.conf import settings
from django.core.checks import Error, Warning, register

CHANNELS = {"wechatpay": ("WeChat Pay", "WECHATPAY", "WECHATPAY_REQUIRED"),
            "alipay": ("Alipay", "ALIPAY", "ALIPAY_REQUIRED")}


@register(deploy=True)
def payment_channels(app_configs, **kwargs):
    """A channel missing any of its keys is disabled: say so, naming the missing variables."""
    problems = []
    for position, (label, setting, required) in enumerate(CHANNELS.values(), start=1):
        values = getattr(settings, setting)
        missing = [f"{setting}_{key.upper()}" for key in getattr(settings, required) if not values[key]]
        if missing:
            problems.append(Warning(f"{label} is disabled: {', '.join(missing)} not set.",
                                    hint="docs/orders-payments.md, \"Payment channels\", lists what each needs.",
                                    id=f"payments.W00{position}"))
    if set(settings.PAYMENT_PROVIDERS) <= {"sandbox"}:
        problems.append(Warning("No real payment channel is configured: only the sandbox takes payments.",
                                id="payments.W003"))
    return problems


@register()
def payment_channel_keys(app_configs, **kwargs):
    """A configured channel's keys must load, or it would fail at the first payment: refuse to start."""
    from payments.providers.alipay import config as alipay_config
    from payments.providers.wechatpay import config as wechatpay_config

    errors = []
    for name, load in (("wechatpay", wechatpay_config), ("alipay", alipay_config)):
        if name not in settings.PAYMENT_PROVIDERS:
            continue
        try:
            cfg = load()
        except Exception as error:  # noqa: BLE001 - any failure to read a key is the same refusal
            errors.append(Error(f"{CHANNELS[name][0]}: a key does not load ({error.__class__.__name__}).",
                                hint="Keys are PEM text (\\n escapes allowed), a PEM file's path, or Alipay's "
                                     "bare base64.", id="payments.E001"))
            continue
        if name == "wechatpay" and len(cfg.apiv3_key) != 32:
            errors.append(Error("WECHATPAY_APIV3_KEY must be the 32 characters set in the merchant platform.",
                                id="payments.E002"))
    return errors
