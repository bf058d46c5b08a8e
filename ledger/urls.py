from django.urls import path

import core.converters  # noqa: F401 - registers <month:…> (YYYY-MM only; other text is 404)

from . import api

urlpatterns = [
    path("merchant/ledger/balance/", api.BalanceApi.as_view(), name="ledger-balance"),
    path("merchant/ledger/entries/", api.EntryListApi.as_view(), name="ledger-entries"),
    path("merchant/ledger/statements/<month:month>/", api.StatementApi.as_view(), name="ledger-statement"),
    path("county/ledger/statements/<month:month>/", api.StaffStatementApi.as_view(), name="ledger-county-statement"),
    path("admin/ledger/statements/<month:month>/", api.StaffStatementApi.as_view(), name="ledger-admin-statement"),
    path("county/ledger/totals/", api.CountyTotalsApi.as_view(), name="ledger-county-totals"),
    path("admin/ledger/totals/", api.PlatformTotalsApi.as_view(), name="ledger-platform-totals"),
    path("merchant/members/", api.MemberListCreateApi.as_view(), name="ledger-members"),
    path("merchant/members/<int:member_id>/", api.MemberDetailApi.as_view(), name="ledger-member"),
    path("merchant/products/<int:product_id>/member-shares/", api.ProductSharesApi.as_view(),
         name="ledger-product-shares"),
    path("merchant/batches/<int:batch_id>/member-shares/", api.BatchSharesApi.as_view(), name="ledger-batch-shares"),
    path("merchant/order-lines/<int:line_id>/batch/", api.LineBatchApi.as_view(), name="ledger-line-batch"),
]
