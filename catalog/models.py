"""What we sell: a two-level tree (departments > categories), products and their price history.

Invariants live in the database (unique SKU, positive price, ISO currency code, slug shapes),
so a bulk import or a raw write cannot break them either. `search_vector` is a generated
column, so PostgreSQL keeps it right after any write (`save`, `update`, `bulk_create`, raw SQL).
"""

from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models, transaction
from django.db.models import F, Func, Q, Value
from django.db.models.expressions import CombinedExpression
from django.db.models.functions import Coalesce, Now, NullIf

from prime_now.kernel.money import MoneyField

SKU_PATTERN = r"^[A-Z0-9][A-Z0-9-]{1,31}$"
SLUG_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
CURRENCY_PATTERN = r"^[A-Z]{3}$"
MAX_PRICE = Decimal("9999999999.99")  # what a MoneyField (12 digits, 2 places) holds


def head_noun() -> Func:
    """The last word of the product type, or else of the name: what the product is ("Kettle
    Chips" are chips, a "Snack Gift Basket" is a basket). Names carry no size (its own field)."""
    return Func(
        Coalesce(NullIf(F("product_type"), Value("")), F("name")),
        Value(r"^.*[^[:alnum:]]"),
        Value(""),
        function="regexp_replace",
        output_field=models.TextField(),
    )


def search_document() -> CombinedExpression:
    """What search matches, by weight: what the product is (A: its department's and category's
    names and the type's last word) > its type (B: "Atlantic Salmon Fillet", so "salmon" finds
    fillets before salmon-flavoured cat food) > name and brand (C) > description, size and the
    attributes' keys and strings (D)."""
    words = (
        SearchVector("taxonomy", config="english", weight="A")
        + SearchVector(head_noun(), config="english", weight="A")
        + SearchVector("product_type", config="english", weight="B")
        + SearchVector("name", config="english", weight="C")
        + SearchVector("brand", config="english", weight="C")
        + SearchVector("description", config="english", weight="D")
        + SearchVector("size", config="english", weight="D")
    )
    attribute_words = Func(
        Value("english"),
        F("attributes"),
        Value('["string", "key"]'),
        function="jsonb_to_tsvector",
        output_field=SearchVectorField(),
    )
    weighted = Func(
        attribute_words, Value("D"), function="setweight", output_field=SearchVectorField()
    )
    return CombinedExpression(words, "||", weighted, output_field=SearchVectorField())


def taxonomy(department_name: str, category_name: str) -> str:
    return f"{department_name} {category_name}"[:210]


class Department(models.Model):
    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=100)
    position = models.PositiveSmallIntegerField(default=0)
    # What a customer gets unless they choose: a best-match substitute, or none at all
    # (medicine, baby formula, gifts: a stand-in is rarely welcome).
    substitutes_by_default = models.BooleanField(
        default=True,
        db_default=True,
        help_text="Offer a best-match substitute unless the customer chooses.",
    )
    updated_at = models.DateTimeField(auto_now=True, db_default=Now())

    class Meta:
        ordering = ("position", "name")
        constraints = [
            models.CheckConstraint(
                condition=Q(slug__regex=SLUG_PATTERN), name="catalog_department_slug_shape"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        with transaction.atomic():
            super().save(*args, **kwargs)
            for category in self.categories.all():
                words = taxonomy(self.name, category.name)
                category.products.exclude(taxonomy=words).update(taxonomy=words)


class Category(models.Model):
    """A subcategory of a department. Slugs are unique across the catalog, so a category can
    be named by its slug alone; `path` ("groceries/snacks") is derived and stored."""

    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="categories")
    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=100)
    path = models.CharField(max_length=121, unique=True, editable=False)
    position = models.PositiveSmallIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True, db_default=Now())

    class Meta:
        ordering = ("department__position", "position", "name")
        verbose_name_plural = "categories"
        constraints = [
            models.CheckConstraint(
                condition=Q(slug__regex=SLUG_PATTERN), name="catalog_category_slug_shape"
            ),
        ]

    def __str__(self) -> str:
        return self.path or self.name

    def save(self, *args, **kwargs) -> None:
        self.path = f"{self.department.slug}/{self.slug}"
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "path"}
        with transaction.atomic():
            super().save(*args, **kwargs)
            # Products keep their category's department (see Product.department).
            self.products.exclude(department_id=self.department_id).update(
                department_id=self.department_id
            )
            words = taxonomy(self.department.name, self.name)
            self.products.exclude(taxonomy=words).update(taxonomy=words)


class Product(models.Model):
    sku = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=220)
    brand = models.CharField(max_length=100, blank=True, db_index=True)
    product_type = models.CharField(
        max_length=100,
        blank=True,
        help_text='What it is, without brand or variant ("Potato Chips"): search ranks it high.',
    )
    size = models.CharField(max_length=50, blank=True, help_text='e.g. "500 g", "6 x 330 ml"')
    description = models.TextField(blank=True)
    image_url = models.URLField(max_length=500, blank=True)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="products")
    # The category's department, kept here so that a department page is one index range scan
    # in price or name order (set by save(), the bulk writers and Category.save()).
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="+", editable=False, db_index=False
    )
    price = MoneyField()
    currency = models.CharField(max_length=3, default="USD")
    active = models.BooleanField(default=True)
    age_restricted = models.BooleanField(
        default=False, help_text="Alcohol and the like: the courier checks ID at the door."
    )
    attributes = models.JSONField(
        default=dict, blank=True, help_text='Searchable facts, e.g. {"organic": true}.'
    )
    # The department's and category's names, kept here for search (a generated column sees
    # only its own row): set by save(), bulk.upsert(), Category.save() and Department.save().
    taxonomy = models.CharField(max_length=210, blank=True, default="", editable=False)
    # Units sold over the last days, as ordering last reported it (product_popularity_set).
    popularity = models.PositiveIntegerField(default=0, db_default=0, editable=False)
    search_vector = models.GeneratedField(
        expression=search_document(), output_field=SearchVectorField(), db_persist=True
    )
    created_at = models.DateTimeField(auto_now_add=True, db_default=Now())
    updated_at = models.DateTimeField(auto_now=True, db_default=Now())

    class Meta:
        ordering = ("name", "id")
        indexes = [
            models.Index(fields=["active", "name", "id"], name="catalog_prod_active_name"),
            models.Index(fields=["active", "price", "id"], name="catalog_prod_active_price"),
            models.Index(
                fields=["department", "active", "name", "id"], name="catalog_prod_dept_name"
            ),
            models.Index(
                fields=["department", "active", "price", "id"], name="catalog_prod_dept_price"
            ),
            models.Index(
                fields=["category", "active", "name", "id"], name="catalog_prod_category_name"
            ),
            models.Index(
                fields=["category", "active", "price", "id"], name="catalog_prod_category_price"
            ),
            models.Index(fields=["updated_at"], name="catalog_prod_updated_at"),
            GinIndex(fields=["search_vector"], name="catalog_product_search_gin"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(sku__regex=SKU_PATTERN), name="catalog_sku_shape"),
            models.CheckConstraint(condition=Q(price__gt=0), name="catalog_price_positive"),
            models.CheckConstraint(
                condition=Q(currency__regex=CURRENCY_PATTERN), name="catalog_currency_iso"
            ),
            models.CheckConstraint(condition=~Q(name=""), name="catalog_name_not_blank"),
            models.CheckConstraint(
                condition=Q(slug__regex=SLUG_PATTERN), name="catalog_product_slug_shape"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"

    def save(self, *args, **kwargs) -> None:
        self.department_id = self.category.department_id
        self.taxonomy = taxonomy(self.category.department.name, self.category.name)
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "department", "taxonomy"}
        super().save(*args, **kwargs)


class PriceHistory(models.Model):
    """One row per price change: who changed it (None for imports and jobs), when, from what."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="price_history")
    old_price = MoneyField()
    new_price = MoneyField()
    currency = models.CharField(max_length=3)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(max_length=20, default="admin")  # admin | import | service
    changed_at = models.DateTimeField(auto_now_add=True, db_default=Now(), db_index=True)

    class Meta:
        ordering = ("-changed_at", "-id")
        verbose_name_plural = "price history"
        constraints = [
            models.CheckConstraint(condition=Q(new_price__gt=0), name="catalog_history_price_pos"),
        ]

    def __str__(self) -> str:
        return f"{self.product_id}: {self.old_price} -> {self.new_price}"
