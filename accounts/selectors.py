from .models import User


def user_get_profile(*, user_id: int) -> User:
    related = ["county"]
    if any(f.name == "merchant" for f in User._meta.related_objects):
        related.append("merchant")
    return User.objects.select_related(*related).get(pk=user_id)
