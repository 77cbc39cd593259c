from events.types import register

_payload = {
    "type": "object",
    "required": ["n"],
    "properties": {"n": {"type": "integer"}, "sleep": {"type": "number"}},
}

register("probe.tick", aggregate_type="probe", schema=_payload, description="Ordering probe.")
register("probe.poison", aggregate_type="probe", schema=_payload, description="Fails on demand.")
register("probe.slow", aggregate_type="probe", schema=_payload, description="Takes its time.")
