"""The live room's machinery below the consumer: Redis clients, per-process fan-out, presence."""
