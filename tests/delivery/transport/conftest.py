import pytest

from .support import make_hub


@pytest.fixture
def hub(db):
    return make_hub()


@pytest.fixture(autouse=True)
def _fast_pings(settings):
    """Tests ping as often as they like; the rate limit has its own tests."""
    settings.DELIVERY_DISPATCH_PING_MIN_INTERVAL_SECONDS = 0


@pytest.fixture(autouse=True)
def _fresh_hub_positions():
    from delivery.transport import hubs

    hubs._cache.clear()
    yield
    hubs._cache.clear()
