"""The vLLM-upgrade gate (issue 23): `llmpod upgrade-check` and its hook in `llmpod diff`.

Built on llmpod.releases (what each release accepts and exports) and the
planner (the plan under the target release's memory rules).
"""
