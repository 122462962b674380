"""The entrypoint that runs inside the vLLM image: supervisor, probes, warmup, drain.

This package ships as-is: every module in it is copied into the image as the
``llmpod_image`` package (``llmpod.image.runtime_files`` lists this directory,
not a hand-kept list), so it imports only the standard library and itself.
"""
