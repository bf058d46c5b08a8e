"""Framework messages a client sees whose zh-hans translation the framework does not ship.

Django 5.2 changed the minimum-length validator's message to ``%d`` and its zh_Hans catalog still
has only the old ``%(min_length)d`` text, so the message came back in English under zh-hans. Naming
the message here puts it in the project's catalog (``locale/``), which Django reads before its own,
so the validator's own ``ngettext`` call finds our translation. tests/accounts test the answer.
"""

from django.utils.translation import ngettext_lazy

MESSAGES = (
    ngettext_lazy("This password is too short. It must contain at least %d character.",
                  "This password is too short. It must contain at least %d characters.", 8),
)
