from django.db import migrations

BUILTIN = [
    ("Active", "active"),
    ("Postponed", "postponed"),
    ("Closed", "closed"),
    ("Deleted", "deleted"),
    ("Merged", "merged"),
]


def create_builtin_statuses(apps, schema_editor):
    Status = apps.get_model("tickets", "Status")
    for name, base in BUILTIN:
        Status.objects.update_or_create(
            base=base, is_builtin=True, defaults={"name": name}
        )


class Migration(migrations.Migration):
    dependencies = [("tickets", "0001_initial")]

    operations = [
        migrations.RunPython(create_builtin_statuses, migrations.RunPython.noop),
    ]
