"""Model facts the planner needs (layers, heads, KV geometry, MoE/MLA,
quantization), from the bundled catalog or a config.json, and where a model's
weights come from (hf://, s3://, a local path).
"""
