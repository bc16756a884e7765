"""Every product card and page shows a picture: lazy, two sizes, alt text; its own wins."""

import re

import pytest

from catalog.models import Product

pytestmark = pytest.mark.django_db


def images(html: str) -> list[str]:
    return re.findall(r"<img [^>]*>", html)


def test_every_card_of_a_listing_has_a_lazy_picture_in_two_sizes_with_alt_text(visitor, shop):
    html = visitor.get("/d/groceries/").content.decode()

    listed = list(Product.objects.filter(active=True).order_by("name", "id"))
    pictures = images(html)
    assert html.count('<article class="tile') == len(pictures) == len(listed)
    for product, img in zip(listed, pictures, strict=True):
        assert f'alt="{product.name}"' in img
        assert 'loading="lazy"' in img
        assert f"/p/{product.sku}/picture-s.webp 240w" in img
        assert f"/p/{product.sku}/picture-l.webp 480w" in img


def test_the_product_page_shows_the_large_picture(visitor, shop):
    product = shop.products[0]

    (img,) = images(visitor.get(f"/p/{product.sku}/").content.decode())

    assert f'src="/p/{product.sku}/picture-l.webp"' in img and 'width="480"' in img


def test_a_product_with_its_own_image_url_shows_that_instead(visitor, shop):
    product = shop.products[0]
    Product.objects.filter(pk=product.pk).update(image_url="https://img.example/own.jpg")

    (img,) = images(visitor.get(f"/p/{product.sku}/").content.decode())

    assert 'src="https://img.example/own.jpg"' in img and "srcset" not in img


def test_the_cart_shows_each_lines_picture(visitor, shop):
    product = shop.products[0]
    visitor.post("/cart/add/", {"sku": product.sku, "quantity": 1})

    (img,) = images(visitor.get("/cart/").content.decode())

    assert f"/p/{product.sku}/picture-s.webp" in img


def test_the_picture_is_served_as_webp_and_may_be_cached(visitor, shop):
    response = visitor.get(f"/p/{shop.products[0].sku}/picture-s.webp")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/webp"
    assert "max-age" in response["Cache-Control"]
    assert response.content[8:12] == b"WEBP"


def test_a_picture_url_of_a_product_with_its_own_image_redirects_there(visitor, shop):
    product = shop.products[0]
    Product.objects.filter(pk=product.pk).update(image_url="https://img.example/own.jpg")

    response = visitor.get(f"/p/{product.sku}/picture-l.webp")

    assert response.status_code == 302 and response["Location"] == "https://img.example/own.jpg"


@pytest.mark.parametrize("path", ["/p/NO-SUCH/picture-s.webp", "/p/{sku}/picture-xl.webp"])
def test_an_unknown_product_or_size_is_404(visitor, shop, path):
    assert visitor.get(path.format(sku=shop.products[0].sku)).status_code == 404
