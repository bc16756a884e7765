import pytest

from catalog import services
from tests.catalog.factories import CategoryFactory, DepartmentFactory


@pytest.fixture(autouse=True)
def _fresh_last_modified():
    """The API remembers the catalog's last change for a second; tests start without it."""
    services.forget_last_modified()
    yield
    services.forget_last_modified()


@pytest.fixture
def groceries(db):
    return DepartmentFactory(slug="groceries", name="Groceries", position=1)


@pytest.fixture
def household(db):
    return DepartmentFactory(slug="household", name="Household", position=2)


@pytest.fixture
def fruit(groceries):
    return CategoryFactory(department=groceries, slug="fruit", name="Fruit", position=1)


@pytest.fixture
def dairy(groceries):
    return CategoryFactory(department=groceries, slug="dairy", name="Dairy", position=2)


@pytest.fixture
def cleaning(household):
    return CategoryFactory(department=household, slug="cleaning", name="Cleaning", position=1)
