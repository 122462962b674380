"""JSON Schemas llmpod wrote for the custom resources it emits (see each file's description)."""
