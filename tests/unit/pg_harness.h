/* SPDX-License-Identifier: MIT
 * A real PostgreSQL 15 for the unit tests, started once per run of the test binary (Criterion
 * report hooks in pg_harness.c: a binary has one PRE_ALL / POST_ALL pair, so every suite that
 * needs the server shares it) and helpers to reach it from a test. */
#ifndef SLUICE_TESTS_PG_HARNESS_H
#define SLUICE_TESTS_PG_HARNESS_H

#include <libpq-fe.h>
#include <stddef.h>

/* The server's port; skips the calling test when the binaries are missing or it did not start. */
int pg_harness_port(void);
/* A loopback port nothing listens on (at the moment of the call). -1 on error. */
int pg_harness_free_port(void);
/* "host=127.0.0.1 port=... user=postgres dbname=<db>" into out. */
void pg_harness_conninfo(char *out, size_t size, const char *db);
/* A connection to db as the superuser (asserts). */
PGconn *pg_harness_admin(const char *db);
/* Runs a statement (asserts it succeeded). */
void pg_harness_exec(PGconn *c, const char *sql);
/* The first column of the first row as text ("" for NULL or no row); static buffer. */
const char *pg_harness_query1(PGconn *c, const char *sql);
/* Drops and creates database `name`; its admin connection in *conn. */
void pg_harness_fresh_db(const char *name, PGconn **conn);

#endif
