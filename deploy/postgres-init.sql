-- Run once by the postgres container on an empty volume: the pipeline's own database, next to
-- Dagster's (POSTGRES_DB). Its tables come from `python -m kroton_pipeline.db upgrade`.
CREATE DATABASE kroton;
