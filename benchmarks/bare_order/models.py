"""The tables benchmarks/delivery_checkout.py creates for pgbench (it creates and drops them)."""

# ruff: noqa: DJ008 (no admin or templates here: nothing shows these models)

from django.db import models


class Stock(models.Model):
    id = models.IntegerField(primary_key=True)
    on_hand = models.IntegerField()
    reserved = models.IntegerField(default=0)

    class Meta:
        managed = False
        db_table = "bench_pg_stock"


class Order(models.Model):
    customer_id = models.IntegerField()
    total = models.DecimalField(max_digits=10, decimal_places=2)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        managed = False
        db_table = "bench_pg_order"


class Line(models.Model):
    order = models.ForeignKey(Order, on_delete=models.DO_NOTHING)
    product_id = models.IntegerField()
    quantity = models.IntegerField()
    price = models.DecimalField(max_digits=10, decimal_places=2)

    class Meta:
        managed = False
        db_table = "bench_pg_line"


class Slot(models.Model):
    id = models.IntegerField(primary_key=True)
    capacity = models.IntegerField()
    booked = models.IntegerField(default=0)

    class Meta:
        managed = False
        db_table = "bench_pg_slot"
