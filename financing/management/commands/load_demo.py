"""Load the demo organizations, users and deals; running it again changes nothing."""

from django.core.management.base import BaseCommand

from financing.demo import demo_deals_load
from scf_platform.demo import DEMO_PASSWORD, demo_organizations_load


class Command(BaseCommand):
    help = "Load demo data (idempotent) and print the demo logins."

    def handle(self, *args, **options) -> None:
        users = demo_organizations_load()
        if demo_deals_load():
            self.stdout.write("Demo programs and financing requests in every state were created.")
        self.stdout.write(
            self.style.SUCCESS("Demo data is loaded. Sign in at /accounts/login/ with:")
        )
        self.stdout.write(f"  {'username':<22} {'organization':<34} role      password")
        for username, organization, role in users:
            self.stdout.write(f"  {username:<22} {organization:<34} {role:<9} {DEMO_PASSWORD}")
