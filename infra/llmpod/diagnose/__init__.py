"""`llmpod diagnose`: read a running vLLM's Prometheus metrics, name the
bottleneck, and cost the changes that would relieve it through the planner.

Scraping is the only I/O (scrape.py, recording.py); parsing, windowing,
classification and what-if planning are pure.
"""
