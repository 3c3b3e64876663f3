"""Support tools: one lead's story (``python -m kroton_pipeline.lead``), read and told."""
