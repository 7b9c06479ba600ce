import accounts.models
import django.core.validators
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="profile",
            name="avatar",
            field=models.ImageField(blank=True, upload_to=accounts.models.avatar_upload_to),
        ),
        migrations.AlterField(
            model_name="profile",
            name="avatar_small",
            field=models.ImageField(blank=True, upload_to=accounts.models.avatar_upload_to),
        ),
        migrations.AlterField(
            model_name="profile",
            name="timezone",
            field=models.CharField(default="UTC", max_length=64, validators=[accounts.models.validate_timezone]),
        ),
        migrations.AlterField(
            model_name="profile",
            name="website",
            field=models.URLField(
                blank=True,
                validators=[
                    django.core.validators.URLValidator(
                        message="Enter a valid http:// or https:// address.", schemes=["http", "https"]
                    )
                ],
            ),
        ),
    ]
