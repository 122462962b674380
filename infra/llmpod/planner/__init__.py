"""The planner: a PlanRequest in, a Plan out (pure, no I/O).

Owns the layout search (TP × PP × replicas), per-GPU memory and KV-cache
accounting as vLLM does it, roofline performance estimates, the vLLM argument
list, and the explanation of why a layout was chosen or refused.
"""
