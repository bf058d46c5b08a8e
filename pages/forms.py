"""The console's input shapes (the API's serializers' counterparts for HTML forms): parsing only;
every rule is the services' (their refusals are shown next to the field they name)."""

from django import forms
from django.utils.translation import gettext_lazy as _


class PinForm(forms.Form):
    product = forms.TypedChoiceField(label=_("Product"), coerce=int, required=False, empty_value=None)

    def __init__(self, *args, stream, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].choices = [("", _("nothing (unpin)"))] + [(p.pk, p.title) for p in stream.products.all()]


class OfferForm(forms.Form):
    product = forms.TypedChoiceField(label=_("Product"), coerce=int)
    price = forms.DecimalField(label=_("Offer price (yuan)"), max_digits=10, decimal_places=2, min_value=0)
    quantity = forms.IntegerField(label=_("Units"), min_value=1, max_value=100000)
    duration_s = forms.IntegerField(label=_("Lasts (seconds)"), min_value=10, max_value=86400, initial=300)
    per_buyer_limit = forms.IntegerField(label=_("Per buyer (optional)"), min_value=1, required=False)

    def __init__(self, *args, stream, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].choices = [(p.pk, p.title) for p in stream.products.all()]
