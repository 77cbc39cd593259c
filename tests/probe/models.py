from django.db import models


class Record(models.Model):
    """One handled event: the id orders the handling across every worker process."""

    subscriber = models.CharField(max_length=150)
    aggregate_id = models.CharField(max_length=64)
    sequence = models.PositiveBigIntegerField()
    event_id = models.UUIDField()

    def __str__(self) -> str:
        return f"{self.subscriber} saw {self.aggregate_id}#{self.sequence}"


class Switch(models.Model):
    """A flag the tests flip to make a handler fail or heal."""

    name = models.CharField(max_length=50, unique=True)
    on = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"{self.name}={'on' if self.on else 'off'}"

    @classmethod
    def is_on(cls, name: str) -> bool:
        return cls.objects.filter(name=name, on=True).exists()
