from .models import User


def user_get_profile(*, user_id: int) -> User:
    # ``merchant``: the reverse one-to-one of a merchant account's shop (merchants, an app above this
    # one), joined by name so ``/api/me`` reads the shop id without a query.
    return User.objects.select_related("county", "merchant").get(pk=user_id)
