"""The llmpod image: the vLLM container's entrypoint, probes, warmup and drain.

Everything listed in ``runtime_files.RUNTIME_MODULES`` (this file included) is
copied into the vLLM image and must stay standard-library only.
"""
