"""Alembic's script directory for loanflow's tables: env.py and one file per revision in versions/.

It lives inside the package, so `loanflow db upgrade` finds it from any folder. Run it through
workflows.schema (the `loanflow db` commands), which hands env.py the connection.
"""
