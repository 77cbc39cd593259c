"""What the fulfillment services raise when an order cannot go on as asked.

Steps and workflow hooks turn these into the engine's answers (a failed, cancelled or
skipped step; a refused cancel or retry); the payment callback turns one into a 404.
"""


class OutOfStock(Exception):
    def __init__(self, skus: list[str]) -> None:
        self.skus = skus
        super().__init__(f"Not enough stock for: {', '.join(skus)}")


class OrderNotCancellable(Exception):
    def __init__(self, status: str) -> None:
        self.status = status
        super().__init__(
            f"An order can be cancelled only while pending, reserved or paid; this one is {status}."
        )


class OrderNotActive(Exception):
    """The order was cancelled or failed meanwhile: the step must not go on."""


class UnknownCharge(Exception):
    """The gateway named a charge no payment has."""
