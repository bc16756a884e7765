"""Product pictures: drawn on first request, kept in storage in two sizes; a product's own
image_url or imported picture wins."""

import io
from io import StringIO

import pytest
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from PIL import Image

from catalog import services
from catalog.services import pictures
from tests.catalog.factories import ProductFactory

pytestmark = pytest.mark.django_db


def size_of(content: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(content)) as image:
        return image.size


@pytest.fixture
def product(fruit):
    product = ProductFactory(sku="PIC-1", name="Sunny Acres Organic Bananas", category=fruit)
    yield product
    for size in pictures.SIZES:
        default_storage.delete(pictures.storage_name("PIC-1", size))


def test_a_product_without_a_picture_gets_one_drawn_in_each_size(product):
    small = services.product_picture(sku="PIC-1", size="s")
    large = services.product_picture(sku="PIC-1", size="l")

    assert small.content_type == "image/webp"
    assert size_of(small.content) == (240, 240)
    assert size_of(large.content) == (480, 480)


def test_a_drawn_picture_is_kept_in_storage_and_not_drawn_again(product, monkeypatch):
    first = services.product_picture(sku="PIC-1", size="s")
    assert default_storage.exists(pictures.storage_name("PIC-1", "s"))
    monkeypatch.setattr(pictures, "draw", lambda *a: pytest.fail("drawn twice"))

    assert services.product_picture(sku="PIC-1", size="s").content == first.content


def test_a_product_with_its_own_image_url_points_there(fruit):
    ProductFactory(sku="PIC-2", category=fruit, image_url="https://img.example/2.jpg")

    picture = services.product_picture(sku="PIC-2", size="l")

    assert picture.url == "https://img.example/2.jpg" and picture.content == b""


@pytest.mark.parametrize("sku,size", [("NO-SUCH", "s"), ("PIC-1", "xl")])
def test_an_unknown_product_or_size_is_not_found(product, sku, size):
    with pytest.raises(services.ProductNotFoundError):
        services.product_picture(sku=sku, size=size)


def test_a_category_shape_is_drawn_once_and_reused(fruit):
    pictures._base.cache_clear()
    for i in range(3):
        pictures.draw(f"Item {i}", "produce-fruit", "produce", 240)

    assert pictures._base.cache_info().misses == 1


def png(color=(200, 30, 30), size=(800, 600)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def test_the_catalog_import_stores_the_pictures_its_rows_name(tmp_path, fruit):
    (tmp_path / "pics").mkdir()
    (tmp_path / "pics" / "red.png").write_bytes(png())
    file = tmp_path / "catalog.csv"
    file.write_text(
        "sku,name,category,price,image\n"
        "IMG-1,Red Apples,fruit,2.50,pics/red.png\n"
        "IMG-2,Green Apples,fruit,2.50,\n"
    )
    out = StringIO()

    call_command("import_catalog", str(file), stdout=out)

    assert "1 pictures stored" in out.getvalue()
    stored = services.product_picture(sku="IMG-1", size="l").content
    with Image.open(io.BytesIO(stored)) as image:
        assert image.size == (480, 480)
        assert image.getpixel((240, 240))[0] > 150  # the imported red, not a drawn picture


def test_a_missing_or_broken_picture_is_that_rows_error_with_its_line(tmp_path, fruit):
    (tmp_path / "broken.jpg").write_bytes(b"not a picture")
    file = tmp_path / "catalog.csv"
    file.write_text(
        "sku,name,category,price,image\n"
        "IMG-1,Red Apples,fruit,2.50,missing.png\n"
        "IMG-2,Green Apples,fruit,2.50,broken.jpg\n"
        "IMG-3,Pears,fruit,2.50,../../etc/passwd\n"
        "IMG-4,Plums,fruit,2.50,\n"
    )
    err = StringIO()

    with pytest.raises(CommandError, match="3 bad row"):
        call_command("import_catalog", str(file), stdout=StringIO(), stderr=err)

    lines = err.getvalue().splitlines()
    assert any("line 2 (IMG-1): image: cannot read 'missing.png'" in x for x in lines)
    assert any("line 3 (IMG-2): image: 'broken.jpg' is not a picture" in x for x in lines)
    assert any("line 4 (IMG-3): image: '../../etc/passwd' is outside" in x for x in lines)
    assert services.products_by_skus(skus=["IMG-4"])  # the good row is imported
