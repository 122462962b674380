"""`llmpod verify`: hold a running vLLM (a URL or a recording) against its plan."""
