"""llmpod: a typed serving spec in, a sized vLLM plan and Pulumi resources out.

Importing this package must stay cheap: the CLI's cold start depends on it, so
nothing here imports pulumi, boto3 or rich.
"""
