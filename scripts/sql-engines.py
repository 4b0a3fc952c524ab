#!/usr/bin/env python3
"""Runs the queries of `afmpi sql` in a real SQL engine and writes the tables they give.

    python scripts/sql-engines.py ENGINE JOBS.json

ENGINE is duckdb or spark (pyspark in local mode; Java 17). JOBS.json is a list of
{"query": FILE.sql, "survey": FILE.csv, "table": OUT.csv}: the survey CSV is registered
as the table `survey` (types inferred from every row), the query runs, and its result is
written as CSV (header, NULL as an empty field) for `afmpi run --from-table`. All jobs run
in one engine session. tests/engines.rs drives it; .ci/run installs the engines.
"""

import csv
import json
import sys


def strip_comments(query):
    return "\n".join(l for l in query.splitlines() if not l.lstrip().startswith("--"))


def write_rows(path, columns, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(columns)
        for row in rows:
            w.writerow(["" if v is None else repr(v) if isinstance(v, float) else v for v in row])


def run_duckdb(jobs):
    import duckdb

    con = duckdb.connect()
    for job in jobs:
        path = job["survey"].replace("'", "''")
        con.execute(
            f"CREATE OR REPLACE VIEW survey AS SELECT * FROM read_csv('{path}', header = true, sample_size = -1)"
        )
        result = con.execute(strip_comments(open(job["query"]).read()))
        columns = [d[0] for d in result.description]
        write_rows(job["table"], columns, result.fetchall())


def run_spark(jobs):
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[2]")
        .appName("afmpi-sql")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.driver.memory", "2g")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    for job in jobs:
        survey = spark.read.csv(job["survey"], header=True, inferSchema=True)
        survey.createOrReplaceTempView("survey")
        result = spark.sql(strip_comments(open(job["query"]).read()))
        write_rows(job["table"], result.columns, [tuple(r) for r in result.collect()])
    spark.stop()


def main():
    engine, jobs_file = sys.argv[1], sys.argv[2]
    jobs = json.load(open(jobs_file))
    {"duckdb": run_duckdb, "spark": run_spark}[engine](jobs)


if __name__ == "__main__":
    main()
