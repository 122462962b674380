"""The vLLM-upgrade gate (issue 23): per-release facts and the checks built on them."""
