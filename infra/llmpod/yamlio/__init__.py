"""YAML in and out, below everything that reads or writes it: ``reader`` (the one
bounded reader of stack files and Pulumi.yaml) and ``writer`` (the one emitter of
rendered manifests and cloud-init). Depends on nothing in llmpod but ``errors``."""
