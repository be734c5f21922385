from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from moderation.roles import grant_moderator


class Command(BaseCommand):
    help = "Give a user the moderator role."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, username, **options):
        try:
            user = get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No user named {username!r}.") from None
        grant_moderator(user=user)
        self.stdout.write(f"{username} is now a moderator.")
