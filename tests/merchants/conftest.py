from tests.catalog.conftest import categories  # noqa: F401 - shared with the admin tests
