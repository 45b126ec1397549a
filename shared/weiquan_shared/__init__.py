"""What every Weiquan service shares: one place for each cross-cutting piece.

- ``settings``  – configuration from the environment (pydantic-settings)
- ``logging``   – structlog JSON logs with personal data masked
- ``pii``       – encryption, blind indexes and masking of personal data
- ``envelope``  – the event envelope every Kafka message carries
- ``events``    – the versioned event payloads (the contracts)
- ``topics``    – the Kafka topics, their partitions and retention
- ``db``        – the asyncpg pool, database creation and migrations
- ``outbox``    – transactional outbox and its relay to Kafka
- ``consumer``  – inbox-idempotent, dead-lettering Kafka consumption
- ``service``   – the FastAPI application every service runs (health, metrics, errors)
"""
