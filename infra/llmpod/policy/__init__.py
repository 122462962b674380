"""llmpod's Pulumi policy pack (CrossGuard).

The rules are pure functions over a resource's type token and its properties
as Pulumi passes them (Kubernetes API shapes, camelCase), in one module each;
``pack.py`` wraps them into pulumi-policy objects and ``__main__.py`` serves
the pack. Run with
``pulumi preview --policy-pack infra/llmpod/policy``
``--policy-pack-config infra/llmpod/policy/config/<stack>.json``.
"""
