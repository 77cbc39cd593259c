"""Bridges between the event store and outside brokers.

Outbound, a bridge reads the store from its own checkpoint and publishes to Kafka or
Amazon SNS as CloudEvents; inbound, a consumer takes CloudEvents from a Kafka topic or an
SQS queue, checks them against the catalog and stores them with their effects.
"""
