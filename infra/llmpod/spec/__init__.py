"""The serving spec: the typed, validated user input (pydantic v2), loaded
once from a Pulumi stack, and the bridge from a service spec to its plan
(planning.py) and to what every backend hands the container (runtime.py).
"""
