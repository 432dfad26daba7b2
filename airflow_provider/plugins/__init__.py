"""Airflow plugins of the dsops provider: the web UI in Airflow's API server."""
