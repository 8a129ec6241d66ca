/* SPDX-License-Identifier: MIT
 * The shared PostgreSQL server of the unit tests (see pg_harness.h): the one PRE_ALL / POST_ALL
 * report-hook pair of the test binary, and the helpers the PostgreSQL suites share. */
#include "pg_harness.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef PG_BIN
#define PG_BIN "/usr/lib/postgresql/15/bin"
#endif

static char server_dir[64];

int pg_harness_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return ntohs(a.sin_port);
}

/* initdb refuses root: run the server's commands as the postgres user then. */
static const char *as_user(void)
{
    return geteuid() == 0 ? "runuser -u postgres -- " : "";
}

ReportHook(PRE_ALL)(struct criterion_test_set *set)
{
    (void)set;
    if (access(PG_BIN "/initdb", X_OK) != 0 || access(PG_BIN "/pg_ctl", X_OK) != 0)
        return;
    int port = pg_harness_free_port();
    snprintf(server_dir, sizeof server_dir, "/tmp/sluice-pg-XXXXXX");
    if (port < 0 || !mkdtemp(server_dir)) {
        server_dir[0] = '\0';
        return;
    }
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "%s%s && %s" PG_BIN "/initdb -D %s/data -A trust -U postgres -N >%s/initdb.log 2>&1 "
             "&& %s" PG_BIN "/pg_ctl -D %s/data -l %s/server.log -w -t 20 -o \"-p %d -k %s -c "
             "listen_addresses=127.0.0.1 -c fsync=off\" start >/dev/null",
             geteuid() == 0 ? "chown postgres " : "true ", geteuid() == 0 ? server_dir : "",
             as_user(), server_dir, server_dir, as_user(), server_dir, server_dir, port,
             server_dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "pg_harness: cannot start PostgreSQL (see %s)\n", server_dir);
        return;
    }
    char v[16];
    snprintf(v, sizeof v, "%d", port);
    setenv("SLUICE_TEST_PG_PORT", v, 1);
}

ReportHook(POST_ALL)(struct criterion_global_stats *stats)
{
    (void)stats;
    if (!server_dir[0])
        return;
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "%s" PG_BIN "/pg_ctl -D %s/data -m immediate -w stop >/dev/null 2>&1; rm -rf %s",
             as_user(), server_dir, server_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "pg_harness: cannot stop the server in %s\n", server_dir);
    server_dir[0] = '\0';
}

int pg_harness_port(void)
{
    const char *p = getenv("SLUICE_TEST_PG_PORT");
    if (!p)
        cr_skip_test("PostgreSQL binaries missing or server not started");
    return atoi(p);
}

void pg_harness_conninfo(const char *dbname, char *out, size_t size)
{
    snprintf(out, size, "host=127.0.0.1 port=%d user=postgres dbname=%s", pg_harness_port(),
             dbname);
}

static void quiet(void *arg, const char *msg)
{
    (void)arg;
    (void)msg;
}

PGconn *pg_harness_connect(const char *dbname)
{
    char ci[256];
    pg_harness_conninfo(dbname, ci, sizeof ci);
    PGconn *c = PQconnectdb(ci);
    cr_assert_eq(PQstatus(c), CONNECTION_OK, "%s", PQerrorMessage(c));
    PQsetNoticeProcessor(c, quiet, NULL);
    return c;
}

void pg_harness_exec(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(r);
    cr_assert(st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK, "%s: %s", sql,
              PQresultErrorMessage(r));
    PQclear(r);
}

const char *pg_harness_query1(PGconn *c, const char *sql)
{
    static char out[256];
    PGresult *r = PQexec(c, sql);
    cr_assert_eq(PQresultStatus(r), PGRES_TUPLES_OK, "%s: %s", sql, PQresultErrorMessage(r));
    snprintf(out, sizeof out, "%s", PQntuples(r) ? PQgetvalue(r, 0, 0) : "");
    PQclear(r);
    return out;
}

PGconn *pg_harness_fresh_db(const char *name)
{
    PGconn *c = pg_harness_connect("postgres");
    char sql[160];
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s", name);
    pg_harness_exec(c, sql);
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", name);
    pg_harness_exec(c, sql);
    PQfinish(c);
    return pg_harness_connect(name);
}

PGconn *pg_harness_test_db(char out[64])
{
    char name[256];
    snprintf(name, sizeof name, "t_%s_%s", criterion_current_test->category,
             criterion_current_test->name);
    size_t n = 0;
    for (const char *p = name; *p && n < 63; p++)
        out[n++] = isalnum((unsigned char)*p) ? (char)tolower((unsigned char)*p) : '_';
    out[n] = '\0';
    return pg_harness_fresh_db(out);
}
