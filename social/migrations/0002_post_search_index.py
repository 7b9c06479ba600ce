"""Full-text search index on posts (PostgreSQL only; SQLite falls back to icontains).

An expression GIN index matching exactly what ``social.selectors.search_posts`` queries:
``to_tsvector('english'::regconfig, COALESCE(text, ''))``.
"""

from django.db import migrations


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS social_post_search ON social_post "
        "USING gin (to_tsvector('english'::regconfig, COALESCE(text, '')))"
    )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS social_post_search")


class Migration(migrations.Migration):
    dependencies = [("social", "0001_initial")]

    operations = [migrations.RunPython(create_index, drop_index)]
