"""Test data, made the way the product makes it."""

from decimal import Decimal

from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from orders.models import Product

CATALOG = {
    "MUG-LOGO": ("Mug with logo", "12.50", 100),
    "TEE-BLACK-M": ("T-shirt, black, M", "19.90", 100),
    "CAP-NAVY": ("Cap, navy", "15.00", 100),
    "LIMITED-POSTER": ("Limited poster", "30.00", 3),
}


def make_user(username: str, *, staff: bool = False):  # type: ignore[no-untyped-def]
    user = get_user_model().objects.create_user(
        username=username, password=username, email=f"{username}@example.com"
    )
    if staff:
        user.is_staff = user.is_superuser = True
        user.save()
    return user


def make_catalog() -> dict[str, Product]:
    return {
        sku: Product.objects.create(sku=sku, name=name, price=Decimal(price), stock=stock)
        for sku, (name, price, stock) in CATALOG.items()
    }


def client_for(user) -> APIClient:  # type: ignore[no-untyped-def]
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def order_body(*lines: tuple[str, int], token: str = "tok_ok") -> dict:
    return {
        "lines": [{"sku": sku, "quantity": quantity} for sku, quantity in lines],
        "payment_token": token,
    }
