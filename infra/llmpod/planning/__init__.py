"""From a spec to plans: ``service`` plans one ServingSpec (the one builder of a
``PlanRequest``), ``flags`` turns `llmpod plan` flags into that same ServingSpec.

Above ``spec`` and ``planner``, below every backend: backends receive
``ServicePlan`` objects and never plan themselves.
"""
