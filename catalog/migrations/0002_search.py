"""PostgreSQL full-text search for products.

- `search_vector` is kept by a trigger: name (A) > brand (B) > description (C) > size and
  attribute keys/strings (D), so bulk_create/bulk_update and raw writes keep it right.
- GIN index on the vector; trigram GIN indexes on name and brand for typo tolerance
  (pg_trgm word similarity) and ILIKE prefix matches.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION catalog_product_search_vector() RETURNS trigger AS $$
BEGIN
    NEW.search_vector :=
        setweight(to_tsvector('english', coalesce(NEW.name, '')), 'A')
        || setweight(to_tsvector('english', coalesce(NEW.brand, '')), 'B')
        || setweight(to_tsvector('english', coalesce(NEW.description, '')), 'C')
        || setweight(to_tsvector('english', coalesce(NEW.size, '')), 'D')
        || setweight(jsonb_to_tsvector('english', coalesce(NEW.attributes, '{}'::jsonb),
                                       '["string", "key"]'), 'D');
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS catalog_product_search_vector_trg ON catalog_product;
CREATE TRIGGER catalog_product_search_vector_trg
    BEFORE INSERT OR UPDATE OF name, brand, description, size, attributes ON catalog_product
    FOR EACH ROW EXECUTE FUNCTION catalog_product_search_vector();

UPDATE catalog_product SET name = name;

CREATE INDEX IF NOT EXISTS catalog_product_search_gin
    ON catalog_product USING gin (search_vector);
CREATE INDEX IF NOT EXISTS catalog_product_name_trgm
    ON catalog_product USING gin (name gin_trgm_ops);
CREATE INDEX IF NOT EXISTS catalog_product_brand_trgm
    ON catalog_product USING gin (brand gin_trgm_ops);
"""

BACKWARD = """
DROP INDEX IF EXISTS catalog_product_brand_trgm;
DROP INDEX IF EXISTS catalog_product_name_trgm;
DROP INDEX IF EXISTS catalog_product_search_gin;
DROP TRIGGER IF EXISTS catalog_product_search_vector_trg ON catalog_product;
DROP FUNCTION IF EXISTS catalog_product_search_vector();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0001_initial"),
    ]

    operations = [
        TrigramExtension(),
        migrations.RunSQL(FORWARD, BACKWARD),
    ]
