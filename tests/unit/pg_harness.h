/* SPDX-License-Identifier: MIT
 * The PostgreSQL 15 server the unit tests share: started once per run of the test binary by a
 * PRE_ALL report hook (initdb in a temporary directory, a free 127.0.0.1 port, fsync off) and
 * stopped and removed by the POST_ALL hook, whatever the tests did. Criterion allows one pair of
 * those hooks per binary, so every suite that needs the server uses this one. Tests are skipped
 * when the PostgreSQL binaries are absent. */
#ifndef SLUICE_TESTS_PG_HARNESS_H
#define SLUICE_TESTS_PG_HARNESS_H

#include <libpq-fe.h>
#include <stddef.h>

/* The server's port; skips the calling test when no server runs. */
int pg_harness_port(void);
/* A loopback TCP port nothing listens on (for refused connections), or -1. */
int pg_harness_free_port(void);
/* "host=127.0.0.1 port=... user=postgres dbname=<dbname>" into out. */
void pg_harness_conninfo(const char *dbname, char *out, size_t size);
/* A connection to dbname as the superuser (asserts it works); NOTICEs are not printed. */
PGconn *pg_harness_connect(const char *dbname);
/* Runs one statement that must succeed (asserts). */
void pg_harness_exec(PGconn *c, const char *sql);
/* The first column of the first row as text ("" for NULL or no row); a static buffer. */
const char *pg_harness_query1(PGconn *c, const char *sql);
/* Drops and creates database `name` (a valid unquoted identifier); returns a connection to it. */
PGconn *pg_harness_fresh_db(const char *name);
/* A database named after the running test ("t_<suite>_<test>", cut to 63 bytes), created fresh;
 * its name into out (64 bytes). Returns a connection to it. */
PGconn *pg_harness_test_db(char out[64]);

#endif
