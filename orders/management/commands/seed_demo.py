"""Demo data for a local run: users admin/alice/bob and a catalog with stock."""

from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from rest_framework.authtoken.models import Token

from orders.models import Product

USERS = [("admin", True), ("alice", False), ("bob", False)]
CATALOG = [
    ("TEE-BLACK-M", "T-shirt, black, M", "19.90", 100),
    ("TEE-WHITE-M", "T-shirt, white, M", "19.90", 100),
    ("HOODIE-GREY-L", "Hoodie, grey, L", "49.00", 50),
    ("MUG-LOGO", "Mug with logo", "12.50", 200),
    ("CAP-NAVY", "Cap, navy", "15.00", 80),
    ("SOCKS-3PK", "Socks, pack of 3", "9.90", 150),
    ("BOTTLE-STEEL", "Steel bottle, 0.75 l", "24.00", 60),
    ("TOTE-CANVAS", "Canvas tote bag", "14.00", 120),
    ("STICKER-PACK", "Sticker pack", "4.50", 500),
    ("NOTEBOOK-A5", "Notebook, A5, dotted", "8.90", 90),
    ("LIMITED-POSTER", "Limited poster (numbered)", "30.00", 3),
]


class Command(BaseCommand):
    help = "Create the demo users (admin/admin, alice/alice, bob/bob) and catalog. Idempotent."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument(
            "--force", action="store_true", help="Seed even when DJANGO_DEBUG is off."
        )

    def handle(self, *args: object, **options: object) -> None:
        if not settings.DEBUG and not options["force"]:
            raise CommandError("Demo data is for development; pass --force to seed anyway.")
        User = get_user_model()
        for username, is_staff in USERS:
            user, created = User.objects.get_or_create(
                username=username, defaults={"email": f"{username}@example.com"}
            )
            if created:
                user.set_password(username)
                user.is_staff = user.is_superuser = is_staff
                user.save()
            Token.objects.get_or_create(user=user)
        for sku, name, price, stock in CATALOG:
            Product.objects.get_or_create(
                sku=sku, defaults={"name": name, "price": Decimal(price), "stock": stock}
            )
        self.stdout.write(
            self.style.SUCCESS(f"Demo data ready: {len(USERS)} users, {len(CATALOG)} products.")
        )
