"""The yardstick for benchmarks/delivery_checkout.py: pgbench's minimal order transaction
(reserve 3 stock rows, an order and its 3 lines, book a slot) through a bare DRF view and the
ORM, on the benchmark's bench_pg_* tables. Nothing else of the project is loaded."""
