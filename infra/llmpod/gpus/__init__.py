"""The GPU catalog: cloud-neutral facts per accelerator (memory, bandwidth,
FLOPs, interconnect, Kubernetes resource and product labels, list prices).
"""
