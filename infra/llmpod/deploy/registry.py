"""The one place backends are registered.

Adding a backend: a package implementing ``Backend`` (cost, preflight, component),
one entry in ``_IMPLEMENTATIONS``, and in the spec (infra/llmpod/spec/service.py)
its name in ``BackendName`` and its section's rules (a test keeps the two in step).
"""

from __future__ import annotations

from llmpod.aws.backend import AwsBackend
from llmpod.backends.base import Backend
from llmpod.k8s.backend import KubernetesBackend

#: In the order their shared resources are created (Kubernetes' provider first,
#: as before the seam existed, so renders stay byte-identical).
_IMPLEMENTATIONS: tuple[Backend, ...] = (KubernetesBackend(), AwsBackend())

BACKENDS: dict[str, Backend] = {b.name: b for b in _IMPLEMENTATIONS}


def backend_for(name: str) -> Backend:
    """The backend a spec names; the spec's Literal already refused unknown names."""
    return BACKENDS[name]
