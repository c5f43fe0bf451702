import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """The calendars and escalation levels now belong to tickets (its 0010), on the same
    tables: escalation forgets them without touching the database."""

    dependencies = [
        ('escalation', '0001_initial'),
        ('tickets', '0010_calendars_and_levels_from_escalation'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='hookdelivery',
                    name='level',
                    field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='deliveries', to='tickets.escalationlevel'),
                ),
                migrations.DeleteModel(name='EscalationLevel'),
                migrations.DeleteModel(name='Holiday'),
                migrations.DeleteModel(name='OpeningHours'),
                migrations.DeleteModel(name='BusinessCalendar'),
            ],
        ),
    ]
