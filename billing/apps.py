from __future__ import annotations

from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts.lifecycle import register_eraser, register_exporter
        from billing import lifecycle, stripe_client, webhook_tasks, webhooks  # noqa: F401 - registers the tasks

        stripe_client.configure()
        webhooks.connect()
        register_exporter("billing", lifecycle.billing_export)
        register_eraser("billing", lifecycle.billing_erase)
