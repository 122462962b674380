"""Kubernetes objects for one planned service, as plain dicts.

Pure and deterministic: every builder here takes a ``ServicePlan`` and returns
JSON-ready dicts (camelCase keys, sorted labels/env/args, no timestamps). No
pulumi import: the components in ``infra/llmpod/components`` hand these dicts to
pulumi-kubernetes, and tests inspect them directly.
"""
