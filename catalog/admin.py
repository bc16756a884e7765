"""Catalog managers' admin: find products by SKU/name/brand, filter, bulk (de)activate, and
change prices inline or on the form. Prices change through services.product_price_set, which
records who changed what and when; every change publishes ProductChanged/PriceChanged."""

from django.contrib import admin, messages
from django.db import transaction
from django.db.models import QuerySet

from prime_now.kernel.errors import ApplicationError

from . import services
from .models import Category, Department, PriceHistory, Product
from .services.changes import publish_changes


class CategoryInline(admin.TabularInline):
    model = Category
    fields = ("slug", "name", "position", "path")
    readonly_fields = ("path",)
    extra = 0
    show_change_link = True


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "position", "substitutes_by_default")
    list_editable = ("position", "substitutes_by_default")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    inlines = [CategoryInline]


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "path", "department", "position")
    list_filter = ("department",)
    list_select_related = ("department",)
    search_fields = ("name", "slug", "path")
    readonly_fields = ("path",)
    prepopulated_fields = {"slug": ("name",)}


class PriceHistoryInline(admin.TabularInline):
    model = PriceHistory
    fields = ("changed_at", "old_price", "new_price", "currency", "changed_by", "source")
    readonly_fields = fields
    extra = 0
    can_delete = False
    max_num = 0
    ordering = ("-changed_at", "-id")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = (
        "sku",
        "name",
        "brand",
        "size",
        "category",
        "price",
        "active",
        "age_restricted",
        "updated_at",
    )
    list_display_links = ("sku", "name")
    list_editable = ("price",)
    list_filter = ("active", "age_restricted", "department", "category")
    list_select_related = ("category",)
    list_per_page = 50
    search_fields = ("^sku", "name", "brand")
    search_help_text = "SKU (starts with), name or brand."
    readonly_fields = ("created_at", "updated_at")
    prepopulated_fields = {"slug": ("name",)}
    autocomplete_fields = ("category",)
    inlines = [PriceHistoryInline]
    actions = ("activate", "deactivate")
    fieldsets = (
        (None, {"fields": ("sku", "name", "slug", "brand", "product_type", "size", "category")}),
        ("Selling", {"fields": ("price", "currency", "active", "age_restricted")}),
        ("Content", {"fields": ("description", "image_url", "attributes")}),
        ("Record", {"fields": ("created_at", "updated_at")}),
    )

    def has_delete_permission(self, request, obj=None) -> bool:
        # Orders and carts keep product ids: deactivate instead of deleting.
        return False

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        return (*fields, "sku", "currency") if obj is not None else fields

    @transaction.atomic
    def save_model(self, request, obj: Product, form, change: bool) -> None:
        price_changed = change and "price" in form.changed_data
        new_price = obj.price
        if price_changed:
            obj.price = form.initial["price"]  # the price moves through the service below
        others_changed = not change or bool(set(form.changed_data) - {"price"})
        if others_changed:
            super().save_model(request, obj, form, change)
            publish_changes(product_ids=[obj.id])
        if price_changed:
            try:
                dto = services.product_price_set(
                    sku=obj.sku, price=new_price, changed_by_id=request.user.id, source="admin"
                )
            except ApplicationError as exc:
                self.message_user(request, f"{obj.sku}: {exc.message}", messages.ERROR)
                return
            obj.price = dto.price

    @admin.action(description="Activate selected products", permissions=["change"])
    def activate(self, request, queryset: QuerySet[Product]) -> None:
        count = services.products_set_active(ids=queryset.values_list("id", flat=True), active=True)
        self.message_user(request, f"{count} product(s) activated.", messages.SUCCESS)

    @admin.action(description="Deactivate selected products", permissions=["change"])
    def deactivate(self, request, queryset: QuerySet[Product]) -> None:
        count = services.products_set_active(
            ids=queryset.values_list("id", flat=True), active=False
        )
        self.message_user(request, f"{count} product(s) deactivated.", messages.SUCCESS)


@admin.register(PriceHistory)
class PriceHistoryAdmin(admin.ModelAdmin):
    list_display = ("product", "old_price", "new_price", "changed_by", "source", "changed_at")
    list_filter = ("source",)
    list_select_related = ("product", "changed_by")
    search_fields = ("^product__sku", "product__name")
    date_hierarchy = "changed_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
