"""Tooling around the warehouse: the source generator (`c360 generate`) and the benchmark
(`c360 bench`), registered as `c360` commands through the `c360.commands` entry point group.

The product never imports this package (tests/test_architecture.py checks it): the Dagster
definitions, the refresh, the ingestion and dbt run without it.
"""
