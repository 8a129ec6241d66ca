/* SPDX-License-Identifier: MIT
 * sluice-mock: a simulated OpenAI-compatible provider for tests, demos and benchmarks (spec:
 * docs/mock.md). This file is the process: command line, one libuv loop and HTTP server per
 * worker thread on a shared port, and a clean stop on SIGTERM/SIGINT. */
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/common.h"
#include "core/log.h"
#include "core/arena.h"
#include "core/buf.h"
#include "mock.h"

/* How long a stop waits for in-flight answers (a stream with long delays is then cut). */
#define MOCK_DRAIN_MS 1000
#define MOCK_MAX_WORKERS 64

static uv_sem_t mock_ready; /* posted by each worker once it listens, or failed to */
static mock_worker_t *mock_workers;
static int mock_nworkers;
static uv_signal_t mock_sigterm, mock_sigint;

static void mock_usage(FILE *f)
{
    fprintf(f, "usage: sluice-mock [--host 127.0.0.1] [--port 4100] [--workers 1]\n"
               "                   [--ttft-ms 0] [--chunk-delay-ms 0] [--tokens 16] "
               "[--latency-ms 0] [--quiet]\n"
               "A simulated OpenAI-compatible provider; see docs/mock.md.\n");
}

/* Parses a decimal option value within [min, max]; exits with a message otherwise. */
static uint64_t mock_parse_number(const char *opt, const char *value, uint64_t min, uint64_t max)
{
    long long v = value ? str_to_ll(str_cstr(value)) : -1;
    if (v < 0 || (uint64_t)v < min || (uint64_t)v > max) {
        fprintf(stderr, "sluice-mock: %s wants a number from %llu to %llu, got '%s'\n", opt,
                (unsigned long long)min, (unsigned long long)max, value ? value : "");
        exit(2);
    }
    return (uint64_t)v;
}

static void mock_parse_args(int argc, char **argv, mock_config_t *cfg)
{
    *cfg = (mock_config_t){.host = "127.0.0.1", .port = 4100, .workers = 1};
    cfg->timing.tokens = 16;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            mock_usage(stdout);
            exit(0);
        }
        if (strcmp(arg, "--quiet") == 0) {
            cfg->quiet = true;
            continue;
        }
        /* --name value or --name=value */
        char name[32];
        const char *value;
        const char *eq = strchr(arg, '=');
        if (eq) {
            snprintf(name, sizeof name, "%.*s", (int)(eq - arg), arg);
            value = eq + 1;
        } else {
            snprintf(name, sizeof name, "%s", arg);
            value = i + 1 < argc ? argv[++i] : NULL;
        }
        if (strcmp(name, "--host") == 0 && value && *value)
            cfg->host = value;
        else if (strcmp(name, "--port") == 0)
            cfg->port = (int)mock_parse_number(name, value, 1, 65535);
        else if (strcmp(name, "--workers") == 0)
            cfg->workers = (int)mock_parse_number(name, value, 1, MOCK_MAX_WORKERS);
        else if (strcmp(name, "--ttft-ms") == 0)
            cfg->timing.ttft_ms = mock_parse_number(name, value, 0, 3600000);
        else if (strcmp(name, "--chunk-delay-ms") == 0)
            cfg->timing.chunk_delay_ms = mock_parse_number(name, value, 0, 3600000);
        else if (strcmp(name, "--tokens") == 0)
            cfg->timing.tokens = mock_parse_number(name, value, 0, 1000000);
        else if (strcmp(name, "--latency-ms") == 0)
            cfg->timing.latency_ms = mock_parse_number(name, value, 0, 3600000);
        else {
            fprintf(stderr, "sluice-mock: unknown option '%s'\n", arg);
            mock_usage(stderr);
            exit(2);
        }
    }
}

/* SO_REUSEPORT, which lets every worker bind the port, would as well let this process share the
 * port with a stale mock and get half its traffic. A plain bind first (SO_REUSEADDR only, so
 * TIME_WAIT leftovers do not matter) fails when anything listens there already. */
static int mock_port_probe(const char *host, int port)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    char service[16];
    snprintf(service, sizeof service, "%d", port);
    if (getaddrinfo(host, service, &hints, &res) != 0)
        return 0; /* let the server report it */
    int rc = 0;
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0 &&
        bind(fd, res->ai_addr, res->ai_addrlen) != 0 && errno == EADDRINUSE)
        rc = -1;
    if (fd >= 0)
        close(fd);
    freeaddrinfo(res);
    return rc;
}

/* ---- workers ---------------------------------------------------------------------------- */

static void mock_worker_drained(void *arg)
{
    mock_worker_t *w = arg;
    w->server = NULL; /* freed by the server before this runs */
    uv_close((uv_handle_t *)&w->stop, NULL);
    mock_call_close_all(w);
}

static void mock_worker_on_stop(uv_async_t *async)
{
    mock_worker_t *w = CONTAINER_OF(async, mock_worker_t, stop);
    if (w->server)
        http_server_shutdown(w->server, MOCK_DRAIN_MS, mock_worker_drained, w);
}

static void mock_close_any(uv_handle_t *h, void *arg)
{
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

static void mock_worker_main(void *arg)
{
    mock_worker_t *w = arg;
    http_server_config_t config = {
        .host = w->cfg->host,
        .port = w->cfg->port,
        .handler = mock_handle_request,
        .data = w,
    };
    w->server = http_server_new(&w->loop, &config);
    if (!w->server) {
        w->start_rc = -1;
        uv_sem_post(&mock_ready);
        return;
    }
    uv_async_init(&w->loop, &w->stop, mock_worker_on_stop);
    w->start_rc = 0;
    uv_sem_post(&mock_ready);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    arena_thread_cleanup(); /* the arena chunks this thread recycled */
    buf_pool_thread_cleanup();
}

/* Closes whatever is left on a worker's loop once its thread is joined. */
static void mock_worker_cleanup(mock_worker_t *w)
{
    if (uv_loop_close(&w->loop) == UV_EBUSY) {
        uv_walk(&w->loop, mock_close_any, NULL);
        uv_run(&w->loop, UV_RUN_DEFAULT);
        uv_loop_close(&w->loop);
    }
    mock_call_free_all(w);
    buf_free(&w->scratch);
}

static void mock_on_signal(uv_signal_t *sig, int signum)
{
    for (int i = 0; i < mock_nworkers; i++)
        if (mock_workers[i].start_rc == 0)
            uv_async_send(&mock_workers[i].stop);
    /* a second signal then gets the default action: a stuck stop can still be killed */
    uv_close((uv_handle_t *)&mock_sigterm, NULL);
    uv_close((uv_handle_t *)&mock_sigint, NULL);
}

int main(int argc, char **argv)
{
    mock_config_t cfg;
    mock_parse_args(argc, argv, &cfg);
    if (cfg.quiet)
        log_min_level = LOG_WARN;
    signal(SIGPIPE, SIG_IGN);

    if (mock_port_probe(cfg.host, cfg.port) != 0) {
        fprintf(stderr,
                "sluice-mock: cannot listen on %s:%d: address already in use (another process "
                "listens there)\n",
                cfg.host, cfg.port);
        return 1;
    }
    mock_nworkers = cfg.workers;
    mock_workers = xcalloc((size_t)cfg.workers, sizeof *mock_workers);
    mock_stats_init(mock_workers, cfg.workers);
    uv_sem_init(&mock_ready, 0);
    uint64_t seed = uv_hrtime() ^ ((uint64_t)getpid() << 32);
    for (int i = 0; i < cfg.workers; i++) {
        mock_worker_t *w = &mock_workers[i];
        w->index = i;
        w->cfg = &cfg;
        w->start_rc = -1;
        w->rng = (seed + 0x9e3779b97f4a7c15ull * (uint64_t)(i + 1)) | 1;
        int rc = uv_loop_init(&w->loop);
        if (rc == 0)
            rc = uv_thread_create(&w->thread, mock_worker_main, w);
        if (rc != 0) {
            fprintf(stderr, "sluice-mock: cannot start worker %d: %s\n", i, uv_strerror(rc));
            return 1;
        }
    }
    int failed = 0;
    for (int i = 0; i < cfg.workers; i++)
        uv_sem_wait(&mock_ready);
    for (int i = 0; i < cfg.workers; i++)
        failed += mock_workers[i].start_rc != 0;

    uv_loop_t *loop = uv_default_loop();
    if (failed) {
        fprintf(stderr, "sluice-mock: cannot listen on %s:%d\n", cfg.host, cfg.port);
        for (int i = 0; i < cfg.workers; i++)
            if (mock_workers[i].start_rc == 0)
                uv_async_send(&mock_workers[i].stop);
    } else {
        uv_signal_init(loop, &mock_sigterm);
        uv_signal_init(loop, &mock_sigint);
        uv_signal_start(&mock_sigterm, mock_on_signal, SIGTERM);
        uv_signal_start(&mock_sigint, mock_on_signal, SIGINT);
        bool v6 = strchr(cfg.host, ':') != NULL;
        fprintf(stderr, "sluice-mock listening on http://%s%s%s:%d\n", v6 ? "[" : "", cfg.host,
                v6 ? "]" : "", cfg.port);
        uv_run(loop, UV_RUN_DEFAULT);
    }

    for (int i = 0; i < cfg.workers; i++) {
        uv_thread_join(&mock_workers[i].thread);
        mock_worker_cleanup(&mock_workers[i]);
    }
    uv_loop_close(loop);
    uv_sem_destroy(&mock_ready);
    mock_stats_destroy();
    free(mock_workers);
    return failed ? 1 : 0;
}
