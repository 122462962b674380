"""The backend seam: what every deployment target (Kubernetes, AWS, …) implements
and shares, below all of them.

``base.Backend`` is the interface (how it bills, what it checks before anything is
created, how it registers a service, which outputs its component exports);
``runtime`` and ``compile_cache`` are what every backend hands the serving
container (the plan file, time budgets, the compile-cache key). The implementations
import this package; the registry that lists them is infra/llmpod/deploy/registry.py,
above them. The core (spec, planning, the Pulumi program) never compares backend names.
"""
