"""What each vLLM release accepts and exports (issue 23): per-release facts read from
the wheels, and the flag and metric-name choices made from them.

A data layer: it imports nothing of llmpod but errors, so the planner, the
Kubernetes rendering and the upgrade gate (llmpod.upgrade) all build on it.
"""
