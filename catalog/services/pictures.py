"""Product pictures: made offline with Pillow, kept through Django's storage API, two sizes.

A product without a picture of its own (`image_url`, or one imported with the catalog) gets a
drawn one: its category's colour and shape (drawn once per category and size, then reused by
every product of it) with the product's short name written on it. Pictures are made on first
request and kept in storage (`products/<sku>-<size>.webp`), so seeding 25,000 products costs
nothing and a picture is drawn once (a few milliseconds: docs/performance.md). An imported
picture is written to the same names, so it simply replaces the drawn one.
"""

import colorsys
import hashlib
import io
import textwrap
import zlib
from dataclasses import dataclass
from functools import lru_cache

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image, ImageDraw, ImageFont, ImageOps

from ..models import Product
from .dtos import ProductNotFoundError

SIZES = {"s": 240, "l": 480}  # square, in pixels: cards (and 2x phones), product pages
CONTENT_TYPE = "image/webp"
FOLDER = "products"
SHAPES = ("circle", "rounded", "bottle", "box", "bag", "can")


@dataclass(frozen=True)
class PictureDTO:
    """A product picture of one size: its WebP bytes, or the `url` of the product's own."""

    sku: str
    size: str
    width: int
    content: bytes
    content_type: str = CONTENT_TYPE
    url: str = ""


def storage_name(sku: str, size: str) -> str:
    return f"{FOLDER}/{sku}-{size}.webp"


def product_picture(*, sku: str, size: str) -> PictureDTO:
    """The picture of this product in this size ("s" 240 px, "l" 480 px): its own `image_url`
    when it has one (`url` set, no content), else the stored picture, drawn and stored on
    first request. Raises ProductNotFoundError for an unknown SKU or size."""
    if size not in SIZES:
        raise ProductNotFoundError(fields={"size": f"Use one of: {', '.join(SIZES)}."})
    row = (
        Product.objects.filter(sku=sku)
        .values_list("name", "product_type", "image_url", "category__slug", "department__slug")
        .first()
    )
    if row is None:
        raise ProductNotFoundError(fields={"sku": sku})
    product_name, product_type, image_url, category, department = row
    if image_url:
        return PictureDTO(sku=sku, size=size, width=SIZES[size], content=b"", url=image_url)
    name = storage_name(sku, size)
    if default_storage.exists(name):
        with default_storage.open(name, "rb") as stored:
            return PictureDTO(sku=sku, size=size, width=SIZES[size], content=stored.read())
    content = draw(short_name(product_name, product_type), category, department, SIZES[size])
    _save(name, content)
    return PictureDTO(sku=sku, size=size, width=SIZES[size], content=content)


def picture_check(image: bytes) -> Image.Image:
    """The picture in these bytes (any format Pillow reads), upright, in RGB. Raises
    ValueError when they are not a picture."""
    try:
        with Image.open(io.BytesIO(image)) as source:
            source.load()
            return ImageOps.exif_transpose(source).convert("RGB")
    except Exception as exc:
        raise ValueError(f"not a picture Pillow can read ({exc.__class__.__name__})") from exc


def picture_store(*, sku: str, image: bytes) -> None:
    """Keep a picture of the product's own, in both sizes, in place of the drawn one.
    Raises ValueError when the bytes are not a picture."""
    picture = picture_check(image)
    for size, width in SIZES.items():
        fitted = ImageOps.pad(picture, (width, width), color=(255, 255, 255))
        _save(storage_name(sku, size), _webp(fitted))


def _save(name: str, content: bytes) -> None:
    # Two requests may draw the same picture at once: the last one written wins (same bytes).
    if default_storage.exists(name):
        default_storage.delete(name)
    default_storage.save(name, ContentFile(content))


def short_name(name: str, product_type: str = "") -> str:
    """What to write on the picture: the product type, else the name's last two words."""
    return product_type or " ".join(name.split()[-2:])


def _hue(category: str, department: str) -> int:
    """A department's colour, varied a little per category."""
    return (zlib.crc32(department.encode()) + zlib.crc32(category.encode()) % 40) % 360


def _rgb(hue: int, saturation: float, lightness: float) -> tuple[int, int, int]:
    r, g, b = colorsys.hls_to_rgb(hue / 360, lightness, saturation)
    return round(r * 255), round(g * 255), round(b * 255)


@lru_cache(maxsize=512)
def _base(category: str, department: str, width: int) -> Image.Image:
    """The category's background and shape at this size: drawn once, then copied."""
    hue = _hue(category, department)
    image = Image.new("RGB", (width, width), _rgb(hue, 0.55, 0.92))
    draw = ImageDraw.Draw(image)
    shape = SHAPES[int(hashlib.sha1(category.encode()).hexdigest(), 16) % len(SHAPES)]
    fill, edge = _rgb(hue, 0.6, 0.55), _rgb(hue, 0.6, 0.35)
    u = width / 12  # a grid unit
    line = max(2, round(u / 5))
    if shape == "circle":
        draw.ellipse((3 * u, 1.5 * u, 9 * u, 7.5 * u), fill=fill, outline=edge, width=line)
    elif shape == "rounded":
        draw.rounded_rectangle((2.5 * u, 2 * u, 9.5 * u, 7 * u), 1.2 * u, fill, edge, line)
    elif shape == "bottle":
        draw.rounded_rectangle((5 * u, 1 * u, 7 * u, 3 * u), 0.3 * u, fill, edge, line)
        draw.rounded_rectangle((4 * u, 2.6 * u, 8 * u, 7.6 * u), 0.8 * u, fill, edge, line)
    elif shape == "box":
        draw.polygon([(3 * u, 3 * u), (6 * u, 1.5 * u), (9 * u, 3 * u), (6 * u, 4.5 * u)], edge)
        draw.rectangle((3 * u, 3 * u, 9 * u, 7.5 * u), fill=fill, outline=edge, width=line)
    elif shape == "bag":
        draw.polygon(
            [(3.5 * u, 2 * u), (8.5 * u, 2 * u), (9.5 * u, 7.5 * u), (2.5 * u, 7.5 * u)],
            fill,
            edge,
            line,
        )
        draw.arc((4.5 * u, 0.8 * u, 7.5 * u, 3.2 * u), 180, 360, edge, line)
    else:  # can
        draw.rectangle((4 * u, 2 * u, 8 * u, 7 * u), fill=fill, outline=edge, width=line)
        draw.ellipse((4 * u, 1.4 * u, 8 * u, 2.6 * u), fill=fill, outline=edge, width=line)
        draw.ellipse((4 * u, 6.4 * u, 8 * u, 7.6 * u), fill=fill, outline=edge, width=line)
    return image


@lru_cache(maxsize=8)
def _font(points: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=points)


def draw(label: str, category: str, department: str, width: int) -> bytes:
    """The category's picture with the label written under the shape, as WebP."""
    image = _base(category, department, width).copy()
    draw = ImageDraw.Draw(image)
    font = _font(round(width / 11))
    hue = _hue(category, department)
    # The label's initial, large, on the shape: an icon-like mark telling products apart.
    draw.text(
        (width / 2, width * 0.37),
        label[:1].upper(),
        fill=(255, 255, 255),
        font=_font(round(width / 5)),
        anchor="mm",
    )
    lines = textwrap.wrap(label, width=16)[:2]
    y = width * 0.66
    for text in lines:
        draw.text((width / 2, y), text, fill=_rgb(hue, 0.7, 0.2), font=font, anchor="ma")
        y += width / 9
    return _webp(image)


def _webp(image: Image.Image) -> bytes:
    out = io.BytesIO()
    # method 0: the fastest encoder (a third of the default's time here), files ~2.5 KB.
    image.save(out, "WEBP", quality=80, method=0)
    return out.getvalue()
