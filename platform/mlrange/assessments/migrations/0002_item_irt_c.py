"""Items get their guessing floor (IRT's c), filled in for the items already loaded."""

from django.db import migrations, models


def fill_guessing_floors(apps, schema_editor):
    from mlrange.assessments.bank import guessing_floor

    Item = apps.get_model("assessments", "Item")
    for item in Item.objects.all().only("pk", "type", "options"):
        floor = guessing_floor(item.type, len(item.options or []))
        if floor:
            Item.objects.filter(pk=item.pk).update(irt_c=floor)


class Migration(migrations.Migration):
    dependencies = [
        ("assessments", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="item",
            name="irt_c",
            field=models.FloatField(
                default=0.0,
                help_text="Guessing floor: the chance of a right answer without the knowledge (1/options "
                "for single choice, 1/2 for true/false, 0 otherwise). Set by the item's format.",
            ),
        ),
        migrations.RunPython(fill_guessing_floors, migrations.RunPython.noop),
    ]
