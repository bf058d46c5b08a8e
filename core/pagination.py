from django.utils.translation import gettext_lazy as _
from rest_framework import pagination
from rest_framework.exceptions import NotFound

from .text import ascii_int


class PageNumberPagination(pagination.PageNumberPagination):
    """``?page=`` and ``?page_size=`` in ASCII digits only (``int()`` would also read '١٢' and '１２'):
    another page number is a 404, another page size the default."""

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_page_number(self, request, paginator):
        raw = request.query_params.get(self.page_query_param) or 1
        if raw in self.last_page_strings:
            return raw
        try:
            return ascii_int(str(raw), minimum=1)
        except ValueError:
            raise NotFound(_("Invalid page.")) from None

    def get_page_size(self, request):
        try:
            size = ascii_int(request.query_params.get(self.page_size_query_param), minimum=1)
        except ValueError:
            size = None
        return min(size, self.max_page_size) if size else self.page_size
