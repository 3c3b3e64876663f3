"""Data the pipeline loads or generates: the IBGE names table, sample Databricks exports."""
