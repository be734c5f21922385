from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from models_app.storage import ensure_bucket


class Command(BaseCommand):
    help = "Create the S3 bucket named by S3_BUCKET if it does not exist (for MinIO, moto or a new account)."

    def handle(self, **options):
        if not settings.S3_BUCKET:
            raise CommandError("S3_BUCKET is not set; files are stored on local disk.")
        created = ensure_bucket()
        self.stdout.write(f"bucket {settings.S3_BUCKET} {'created' if created else 'already exists'}")
