"""Every write of the catalog. Import from here."""

from .batches import batch_create  # noqa: F401
from .indexing import (  # noqa: F401
    product_search_index,
    products_reindex,
    products_reindex_for_category,
    products_reindex_for_merchant,
)
from .products import (  # noqa: F401
    EDITABLE_FIELDS,
    clean_claims,
    product_create,
    product_delist,
    product_image_add,
    product_image_delete,
    product_relist,
    product_stock_adjust,
    product_update,
)
from .review import (  # noqa: F401
    PRODUCT_DECISIONS,
    ClaimNotBacked,
    product_review,
    products_withdraw_for_credential,
    unbacked_claims,
)
from .status import PRODUCT_TRANSITIONS, product_note, product_transition  # noqa: F401
