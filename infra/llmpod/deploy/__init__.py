"""The backends of a stack, together: ``registry`` lists the implementations (the
one place backend names meet code), ``stack`` plans a whole stack and prices each
service with its own backend. Above every backend, below the Pulumi program.
"""
