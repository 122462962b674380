"""The backend seam: what a deployment target (Kubernetes, AWS, …) provides.

``base.Backend`` is the interface (its spec rules, how it bills, what it checks
before anything is created, how it registers a service); ``registry`` is the one
place the implementations are listed. The core (spec, planning, the Pulumi
program) asks the registry and never compares backend names.
"""
