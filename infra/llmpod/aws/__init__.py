"""The AWS backend: a planned service as EC2 instances behind an ALB.

Owns the AWS side only: instance layout and pricing (instances.py), the pure
resource description (description.py) and its cloud-init (cloud_init.py), IAM
documents, preflight checks against the account (through llmpod.adaptors.aws),
and the thin Pulumi component that registers it all (component.py).
"""
