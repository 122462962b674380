"""The `llmpod` command line: argument parsing, one module per subcommand.

Commands only parse, call the pure core (planner, spec, render, diagnose) and
print; errors reach the user as one paragraph (llmpod.errors), never a traceback.
"""
