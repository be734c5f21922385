from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from community.models import ApiKey


class Command(BaseCommand):
    help = "Create an API key for a user; the key is printed on the last line, once."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="created by manage.py")

    def handle(self, username, name, **options):
        try:
            user = get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No user named {username!r}.") from None
        _, raw = ApiKey.create(user=user, name=name)
        self.stdout.write(f"API key for {username} (store it now; it is not shown again):")
        self.stdout.write(raw)
