"""Levers: operators' on/off switches (Lever rows in the admin), cached for a few seconds."""

from django.core.cache import cache

from .models import Lever

CACHE_SECONDS = 5


def _key(name: str) -> str:
    return f"lever:{name}"


def lever_enabled(name: str, *, default: bool = True) -> bool:
    """Whether the lever is on (`default` when there is no such lever), cached for
    CACHE_SECONDS."""
    cached: bool | None = cache.get(_key(name))
    if cached is not None:
        return cached
    value = Lever.objects.filter(name=name).values_list("enabled", flat=True).first()
    enabled = default if value is None else bool(value)
    cache.set(_key(name), enabled, CACHE_SECONDS)
    return enabled


def lever_set(name: str, *, enabled: bool, description: str = "") -> None:
    """Turn the lever on or off, creating it if need be (the description kept unless given);
    clears its cached value."""
    defaults: dict[str, bool | str] = {"enabled": enabled}
    if description:
        defaults["description"] = description
    Lever.objects.update_or_create(name=name, defaults=defaults)
    cache.delete(_key(name))
