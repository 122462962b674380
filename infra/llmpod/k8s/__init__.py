"""Kubernetes objects for one planned service, as plain dicts.

Pure and deterministic: every builder here takes a ``ServicePlan`` and returns
JSON-ready dicts (camelCase keys, sorted labels/env/args, no timestamps). No
pulumi import in the builders: ``component.py`` (the service, like aws/component.py),
``namespaces_component.py`` and ``pulumi_objects.py`` hand these dicts to
pulumi-kubernetes, imported only when a stack is deployed or rendered; tests inspect
the dicts directly.
"""
