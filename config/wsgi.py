import os
from collections.abc import Callable, Iterable

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
_django = get_wsgi_application()

# Stripe's verified webhook deliveries are stored before Django's request handling and
# middleware, none of which they use (billing.webhook_intake.webhook_fast_path); every other
# request, and any delivery it does not fully accept, goes to Django as before.
from billing.webhook_intake import webhook_fast_path  # noqa: E402 - needs the apps loaded above

application: Callable[..., Iterable[bytes]] = webhook_fast_path(_django)
