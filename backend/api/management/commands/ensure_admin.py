"""Create the first admin user, without prompting, if there is no superuser yet.

The password comes from ADMIN_PASSWORD; without it one is generated, printed once and
written to <data dir>/admin-password (readable by the owner only)."""

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create user 'admin' if no superuser exists (password from ADMIN_PASSWORD or generated)."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")

    def handle(self, *args, username, **options):
        users = get_user_model()
        if users.objects.filter(is_superuser=True).exists():
            return
        password = settings.CONFIG.admin_password or secrets.token_urlsafe(12)
        users.objects.create_superuser(username=username, email="", password=password)
        if settings.CONFIG.admin_password:
            self.stdout.write(f"Created admin user '{username}' with the password from ADMIN_PASSWORD.")
            return
        path = settings.CONFIG.data_dir / "admin-password"
        path.write_text(password + "\n")
        path.chmod(0o600)
        self.stdout.write(f"Created admin user '{username}', password: {password} (also in {path})")
