"""The llmpod image: its build context and Dockerfile (this package) and the
entrypoint that runs inside it (``llmpod.image.runtime``: probes, warmup, drain).

``runtime`` is copied into the vLLM image as ``llmpod_image`` and must stay
standard-library only; its package boundary is the list of what ships.
"""
