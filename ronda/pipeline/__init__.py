"""The runtime: bounded queues, aggregation, checkpoints and the thread topology."""
