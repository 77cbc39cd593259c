"""A reusable event engine for Django: outbox, relay, inbox, dead letters, workflows."""
