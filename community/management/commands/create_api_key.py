from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from community.models import ApiKey


class Command(BaseCommand):
    help = "Create an API key for a user; the key is printed on the last line, once."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="created by manage.py")
        parser.add_argument(
            "--scope",
            choices=ApiKey.Scope.values,
            default=ApiKey.Scope.WRITE,
            help="read: downloads and look-ups only; write (the default): also changes things.",
        )

    def handle(self, username, name, scope, **options):
        try:
            user = get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No user named {username!r}.") from None
        _, raw = ApiKey.create(user=user, name=name, scope=scope)
        self.stdout.write(f"API key for {username}, {scope} access (store it now; it is not shown again):")
        self.stdout.write(raw)
