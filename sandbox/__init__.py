"""The outside world's test service: a payment provider and a carrier, in their own process.

Built as real providers offer a test mode: idempotency keys on every write, test tokens
(``tok_ok``, ``tok_decline``, ``tok_flaky``, ``tok_async``), a signed callback for the
asynchronous payment, and faults to switch on (latency, errors, lost responses). Its
ledger lives in its own SQLite file, never in the app's database, and nothing here
imports Django: the app reaches it over HTTP only.
"""
