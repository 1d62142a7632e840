/* pg_bgw_bench--1.0.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION pg_bgw_bench" to load this file. \quit

-- Runs one benchmark shape in this backend and returns its samples, one "metric value" line
-- each. workdir must be writable by the server (the launched workers write start stamps there);
-- library is what the launched workers load (bgw_library_name).
CREATE FUNCTION bgw_bench_run(shape text, iterations int, arg int, workdir text,
                              library text DEFAULT 'MODULE_PATHNAME')
RETURNS text
AS 'MODULE_PATHNAME', 'bgw_bench_run'
LANGUAGE C STRICT VOLATILE;
