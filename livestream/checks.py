from django.conf import settings
from django.core.checks import Warning, register


@register(deploy=True)
def media_hook_secret(app_configs, **kwargs):
    if settings.MEDIA_HOOK_SECRET:
        return []
    return [Warning("MEDIA_HOOK_SECRET is empty: every media-server hook is refused, so no stream can go "
                    "live from an encoder.", hint="Set MEDIA_HOOK_SECRET (secrets.token_urlsafe()).",
                    id="livestream.W001")]
