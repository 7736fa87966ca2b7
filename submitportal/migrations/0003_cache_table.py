"""The database cache's table (settings.CACHES), created with the schema so no extra command is needed."""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps: object, schema_editor: object) -> None:
    call_command("createcachetable", verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("submitportal", "0002_drafts_and_extra_files")]
    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
