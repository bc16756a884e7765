import pytest

from catalog.services import readcache
from catalog.services.changes import forget_last_modified
from tests.catalog.factories import CategoryFactory, DepartmentFactory


@pytest.fixture(autouse=True)
def _fresh_last_modified():
    """The API remembers the catalog's last change for a second, and the read cache a
    failure for a few; tests start without either (the cache itself is emptied per test)."""
    forget_last_modified()
    readcache.reset()
    yield
    forget_last_modified()
    readcache.reset()


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
