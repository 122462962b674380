"""Thin Pulumi ComponentResources: one per file, built from pure descriptions."""
