"""The promise cache: a version number per hub, bumped to invalidate every cached promise of
that hub at once (cached entries carry the version in their key and simply stop being read)."""

from django.core.cache import cache

PROMISE_SECONDS = 5


def _version_key(hub_code: str) -> str:
    return f"delivery:promise:v:{hub_code}"


def hub_version(hub_code: str) -> int:
    return cache.get(_version_key(hub_code)) or 0


def promise_invalidate(*, hub_code: str) -> None:
    key = _version_key(hub_code)
    try:
        cache.incr(key)
    except ValueError:  # not set yet (or evicted): any new value makes old entries unreachable
        cache.add(key, 1, timeout=None) or cache.incr(key)
