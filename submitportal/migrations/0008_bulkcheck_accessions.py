from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("submitportal", "0007_draft_revise"),
    ]

    operations = [
        migrations.AddField(
            model_name="bulkcheck",
            name="accessions",
            field=models.JSONField(blank=True, null=True),
        ),
    ]
