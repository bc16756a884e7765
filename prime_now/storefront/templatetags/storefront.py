"""Template helpers: money, delivery-window times in the hub's time zone, cached links and
in-process fragments."""

from __future__ import annotations

import functools
import zoneinfo
from datetime import datetime
from decimal import Decimal

from django import template
from django.urls import get_script_prefix, reverse
from django.utils import formats, timezone
from django.utils.html import format_html

from prime_now.kernel.levers import lever_on

from .. import memo as _memo
from ..levers import IMAGES
from ..pictures import picture_for

register = template.Library()


@functools.lru_cache(maxsize=64)
def _link(name: str, prefix: str) -> str:
    return reverse(name)


@register.simple_tag
def link(name: str) -> str:
    """`{% url name %}` for a URL without arguments, reversed once per process."""
    return _link(name, get_script_prefix())


@register.simple_tag
def product_picture(
    sku: str, name: str, image_url: str = "", size: str = "s", sizes: str = ""
) -> str:
    """`<img>` of a product: lazy, with srcset and alt text (nothing when picture_for says,
    or while the `storefront-images` lever is pulled). Built as one string: a listing has 24,
    and a sub-template per card cost a fifth of the page."""
    if not lever_on(IMAGES):
        return ""
    picture = picture_for(sku=sku, name=name, image_url=image_url, size=size)
    if picture is None:
        return ""
    srcset = (
        format_html(
            ' srcset="{}"{}', picture.srcset, format_html(' sizes="{}"', sizes) if sizes else ""
        )
        if picture.srcset
        else ""
    )
    return format_html(
        '<img class="picture" src="{}"{} width="{}" height="{}" loading="lazy" '
        'decoding="async" alt="{}">',
        picture.src,
        srcset,
        picture.width,
        picture.height,
        picture.alt,
    )


class MemoNode(template.Node):
    def __init__(self, nodelist, seconds, name: str, vary) -> None:
        self.nodelist, self.seconds, self.name, self.vary = nodelist, seconds, name, vary

    def render(self, context) -> str:
        vary = "\x1f".join(str(v.resolve(context)) for v in self.vary)
        key = f"fragment:{self.name}:{vary}"
        return _memo.remembered(
            key, float(self.seconds.resolve(context)), lambda: self.nodelist.render(context)
        )


@register.tag("memo")
def memo(parser, token):
    """`{% memo SECONDS NAME [VARY ...] %}...{% endmemo %}`: like `{% cache %}`, but kept in
    this process's memory (no round trip to the shared cache). Only for fragments that
    depend on nothing but the VARY values (never a CSRF token or other per-visitor secret)."""
    bits = token.split_contents()
    if len(bits) < 3:
        raise template.TemplateSyntaxError(f"{bits[0]} takes at least two arguments")
    nodelist = parser.parse(("endmemo",))
    parser.delete_first_token()
    return MemoNode(
        nodelist,
        parser.compile_filter(bits[1]),
        bits[2],
        [parser.compile_filter(bit) for bit in bits[3:]],
    )


@register.filter
def money(amount: Decimal | None) -> str:
    if amount is None:
        return ""
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.2f}"


def day_label(moment: datetime) -> str:
    """'Today', 'Tomorrow' or 'Wed 25 Nov' for an aware datetime, in its own time zone."""
    return _day(moment, timezone.now().astimezone(moment.tzinfo))


def _day(moment: datetime, now: datetime) -> str:
    if moment.date() == now.date():
        return "Today"
    if (moment.date() - now.date()).days == 1:
        return "Tomorrow"
    return formats.date_format(moment, "D j M")


@register.simple_tag
def window_time(window, promise) -> str:
    """'Today 14:00–15:00' in the hub's time zone."""
    tz = zoneinfo.ZoneInfo(getattr(promise, "tz", "UTC"))
    start, end = window.start.astimezone(tz), window.end.astimezone(tz)
    return f"{_day(start, timezone.now().astimezone(tz))} {start:%H:%M}–{end:%H:%M}"


@register.simple_tag
def local_time(moment: datetime | None, tz: str = "UTC") -> str:
    if moment is None:
        return ""
    local = moment.astimezone(zoneinfo.ZoneInfo(tz or "UTC"))
    return f"{_day(local, timezone.now().astimezone(local.tzinfo))} {local:%H:%M}"


@register.simple_tag
def clock(moment: datetime | None, tz: str = "UTC") -> str:
    """'14:00' in the given time zone."""
    if moment is None:
        return ""
    return f"{moment.astimezone(zoneinfo.ZoneInfo(tz or 'UTC')):%H:%M}"


@register.filter
def get_item(mapping: dict, key: str):
    """mapping[key], or None (a dict keyed by SKU, looked up in a loop)."""
    return mapping.get(key) if mapping else None
