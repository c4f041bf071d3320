"""``manage.py ensure_demo_admin``: a login for a fresh development machine (``make run``).

Creates the superuser ``admin`` when there is no superuser at all, and only with DEBUG on: a
well-known password must never reach a production database. Running it again changes nothing.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse
from django.utils.translation import gettext as _

USERNAME = "admin"
DEFAULT_PASSWORD = "admin"  # noqa: S105 - development only, refused with DEBUG off
LOCAL_URL = "http://127.0.0.1:8000"  # where `make run` serves the store


class Command(BaseCommand):
    help = _("Create the demo superuser 'admin' if there is no superuser (DEBUG only).")

    def handle(self, *args, **options) -> None:
        User = get_user_model()
        login_url = LOCAL_URL + reverse("admin:index")
        if User.objects.filter(is_superuser=True).exists():
            self.stdout.write(
                _("A superuser already exists; nothing to do. Log in at %(url)s")
                % {"url": login_url}
            )
            return
        if not settings.DEBUG:
            raise CommandError(
                _(
                    "refusing to create a demo admin with a known password while DEBUG is off; "
                    "create a real one with `python manage.py createsuperuser`"
                )
            )
        if User.objects.filter(username=USERNAME).exists():
            raise CommandError(
                _(
                    "a user named %(name)s exists but is not a superuser; make it one with "
                    "`python manage.py createsuperuser` under another name or in the admin"
                )
                % {"name": USERNAME}
            )
        password = settings.PERCHA["DEMO_ADMIN_PASSWORD"] or DEFAULT_PASSWORD
        User.objects.create_superuser(username=USERNAME, email="", password=password)
        shown = (
            DEFAULT_PASSWORD
            if password == DEFAULT_PASSWORD
            else _("the value of DEMO_ADMIN_PASSWORD")
        )
        self.stdout.write(
            self.style.SUCCESS(
                _("Created the demo superuser. Log in at %(url)s as %(user)s, password %(pw)s")
                % {"url": login_url, "user": USERNAME, "pw": shown}
            )
        )
