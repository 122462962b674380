"""Stacks per environment (dev, staging, production): reading and writing
their Pulumi stack YAML, the cross-stack summary, and `llmpod promote`
(which settings carry over between environments, conflicts, records).
"""
