from events.types import register

register(
    "bench.ping",
    aggregate_type="bench",
    schema={"type": "object", "properties": {"n": {"type": "integer"}}},
    description="Benchmark event: carries a number, means nothing.",
)
