"""PostgreSQL-only triggers: the event table refuses change, the outbox wakes the relay."""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION events_event_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'events_event is append-only: % refused', TG_OP
        USING ERRCODE = 'restrict_violation';
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER events_event_append_only
    BEFORE UPDATE OR DELETE ON events_event
    FOR EACH ROW EXECUTE FUNCTION events_event_append_only();

CREATE OR REPLACE FUNCTION events_outbox_notify() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('events_outbox', '');
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER events_outbox_notify
    AFTER INSERT ON events_outboxevent
    FOR EACH STATEMENT EXECUTE FUNCTION events_outbox_notify();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS events_outbox_notify ON events_outboxevent;
DROP FUNCTION IF EXISTS events_outbox_notify();
DROP TRIGGER IF EXISTS events_event_append_only ON events_event;
DROP FUNCTION IF EXISTS events_event_append_only();
"""


def forward(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:  # no parameters: "%" is literal
            cursor.execute(FORWARD)


def backward(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("events", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
