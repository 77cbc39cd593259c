from celery import shared_task


@shared_task(name="bench.noop")
def noop(n: int = 0) -> int:
    """The bare-Celery baseline: a task that does nothing but return its argument."""
    return n
