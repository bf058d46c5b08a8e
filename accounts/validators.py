from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

phone_validator = RegexValidator(
    regex=r"^1[3-9][0-9]{9}$",  # ASCII digits only: Python's \d also takes ١٣٩…
    message=_("Enter a valid mainland China mobile number (11 digits starting with 1)."),
    code="invalid_phone",
)


# Letters, digits and @ . + - _ as Django allows, limited to ASCII and the CJK
# ideographs, written so that Python and the OpenAPI (ECMAScript) pattern agree.
username_validator = RegexValidator(
    regex=r"^[A-Za-z0-9_.@+\-\u4e00-\u9fff]+$",
    message=_("Use letters (Latin or Chinese), digits and @ . + - _ only."),
    code="invalid_username",
)
