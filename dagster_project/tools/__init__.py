"""Tooling around the warehouse (the source generator behind `c360 generate` and `c360 bench`).

The product never imports this package: the Dagster definitions, the ingestion and dbt run
without it. Only the command line (cli.py, bench.py) and the tests do.
"""
