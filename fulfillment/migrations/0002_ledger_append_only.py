"""The database itself refuses to change or delete a ledger row (only `actor` may be
cleared, when a user is deleted)."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION fulfillment_ledger_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'fulfillment_stockmovement is append-only (delete refused)';
    END IF;
    IF (NEW.id, NEW.stock_id, NEW.kind, NEW.on_hand_delta, NEW.reserved_delta, NEW.reason,
        NEW.reference, NEW.created_at)
       IS DISTINCT FROM
       (OLD.id, OLD.stock_id, OLD.kind, OLD.on_hand_delta, OLD.reserved_delta, OLD.reason,
        OLD.reference, OLD.created_at) THEN
        RAISE EXCEPTION 'fulfillment_stockmovement is append-only (update refused)';
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS fulfillment_ledger_append_only ON fulfillment_stockmovement;
CREATE TRIGGER fulfillment_ledger_append_only
    BEFORE UPDATE OR DELETE ON fulfillment_stockmovement
    FOR EACH ROW EXECUTE FUNCTION fulfillment_ledger_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS fulfillment_ledger_append_only ON fulfillment_stockmovement;
DROP FUNCTION IF EXISTS fulfillment_ledger_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("fulfillment", "0001_initial")]

    operations = [migrations.RunSQL(CREATE, reverse_sql=DROP)]
