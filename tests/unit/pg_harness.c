/* SPDX-License-Identifier: MIT
 * The PostgreSQL server the store_pg and store_svc suites use: initdb in a mkdtemp directory,
 * pg_ctl start on a free loopback port with fsync off (as the postgres user when running as
 * root), before the first test; stopped and removed after the last, whatever the tests did. */
#include "pg_harness.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/hooks.h>
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

void pg_harness_conninfo(char *out, size_t size, const char *db)
{
    snprintf(out, size, "host=127.0.0.1 port=%d user=postgres dbname=%s", pg_harness_port(), db);
}

PGconn *pg_harness_admin(const char *db)
{
    char ci[256];
    snprintf(
        ci, sizeof ci,
        "host=127.0.0.1 port=%d user=postgres dbname=%s options='-c client_min_messages=warning'",
        pg_harness_port(), db);
    PGconn *c = PQconnectdb(ci);
    cr_assert_eq(PQstatus(c), CONNECTION_OK, "%s", PQerrorMessage(c));
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

void pg_harness_fresh_db(const char *name, PGconn **conn)
{
    PGconn *c = pg_harness_admin("postgres");
    char sql[128];
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s", name);
    pg_harness_exec(c, sql);
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", name);
    pg_harness_exec(c, sql);
    PQfinish(c);
    *conn = pg_harness_admin(name);
}
