/* SPDX-License-Identifier: MIT
 * sluice: the command line (LiteLLM's flags), worker threads each with its own loop, listener
 * and upstream client, and signals: SIGTERM or SIGINT drains in-flight requests, then exits 0. */
#include <curl/curl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api.h"
#include "config/config.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/common.h"
#include "core/log.h"
#include "core/str.h"
#include "http/http.h"
#include "providers/adapter.h"
#include "providers/vertex_auth.h"
#include "router/router.h"
#include "upstream/upstream.h"

typedef struct {
    const char *config_path;
    const char *host;
    int port;
    int num_workers;
    double drain_seconds;
} options_t;

typedef struct worker {
    int index;
    uv_thread_t thread;
    uv_loop_t loop;
    uv_async_t stop;
    api_worker_t api;
    http_server_t *srv;
    const options_t *opts;
    const api_ctx_t *ctx;
    const cfg_t *cfg;
    uv_sem_t *started; /* posted once the listener is bound (or failed) */
    int failed;
} worker_t;

static worker_t *workers;
static int num_workers;

static void usage(FILE *out)
{
    fprintf(out, "usage: sluice --config FILE [--host HOST] [--port PORT] [--num_workers N]\n"
                 "              [--detailed_debug] [--drain_timeout SECONDS]\n"
                 "       sluice --check FILE\n"
                 "       sluice --version | --help\n"
                 "\n"
                 "  --config FILE        LiteLLM config.yaml (also $CONFIG_FILE_PATH)\n"
                 "  --host HOST          address to listen on (default 0.0.0.0)\n"
                 "  --port PORT          port to listen on (default 4000)\n"
                 "  --num_workers N      worker threads (default: number of cores)\n"
                 "  --detailed_debug     debug logging\n"
                 "  --drain_timeout S    on SIGTERM, wait up to S seconds for in-flight requests "
                 "(default 30)\n"
                 "  --check FILE         validate a config, print every problem, exit non-zero on "
                 "errors\n");
}

static void on_server_drained(void *arg)
{
    worker_t *w = arg;
    up_client_free(w->api.up);
    w->api.up = NULL;
    uv_close((uv_handle_t *)&w->stop, NULL);
}

static void on_stop(uv_async_t *a)
{
    worker_t *w = a->data;
    if (w->srv) {
        http_server_t *srv = w->srv;
        w->srv = NULL;
        http_server_shutdown(srv, (uint64_t)(w->opts->drain_seconds * 1000), on_server_drained, w);
    }
}

/* Milliseconds from the environment; 0 (the server's default) when unset or invalid. */
static uint64_t env_ms(const char *name)
{
    const char *v = getenv(name);
    long long ms = v ? str_to_ll(str_cstr(v)) : -1;
    return ms > 0 ? (uint64_t)ms : 0;
}

static void worker_main(void *arg)
{
    worker_t *w = arg;
    uv_loop_init(&w->loop);
    uv_async_init(&w->loop, &w->stop, on_stop);
    w->stop.data = w;
    w->api.ctx = w->ctx;
    w->api.rng = route_rng_seed();
    w->api.index = w->index;
    w->api.up = up_client_new(&w->loop);
    double mb = w->cfg->max_request_size_mb > 0 ? w->cfg->max_request_size_mb : 32;
    http_server_config_t sc = {
        .host = w->opts->host,
        .port = w->opts->port,
        .max_body_bytes = (size_t)(mb * 1024 * 1024),
        .header_timeout_ms = env_ms("SLUICE_HEADER_TIMEOUT_MS"),
        .idle_timeout_ms = env_ms("SLUICE_KEEPALIVE_TIMEOUT_MS"),
        .body_timeout_ms = env_ms("SLUICE_BODY_TIMEOUT_MS"),
        .handler = api_handle,
        .data = &w->api,
    };
    w->srv = w->api.up ? http_server_new(&w->loop, &sc) : NULL;
    w->failed = w->srv == NULL;
    uv_sem_post(w->started);
    if (w->failed) {
        if (w->api.up)
            up_client_free(w->api.up);
        uv_close((uv_handle_t *)&w->stop, NULL);
    }
    uv_run(&w->loop, UV_RUN_DEFAULT);
    uv_loop_close(&w->loop);
    arena_thread_cleanup();
    buf_pool_thread_cleanup();
    prov_thread_cleanup();
}

static void on_signal(uv_signal_t *s, int signum)
{
    log_info("received %s: draining in-flight requests, then exiting",
             signum == SIGTERM ? "SIGTERM" : "SIGINT");
    for (int i = 0; i < num_workers; i++)
        if (!workers[i].failed)
            uv_async_send(&workers[i].stop);
    uv_close((uv_handle_t *)s, NULL);
    uv_signal_t *other = s->data;
    if (!uv_is_closing((uv_handle_t *)other))
        uv_close((uv_handle_t *)other, NULL);
}

static int parse_args(int argc, char **argv, options_t *o, const char **check_path)
{
    enum {
        OPT_CONFIG = 1,
        OPT_HOST,
        OPT_PORT,
        OPT_WORKERS,
        OPT_DEBUG,
        OPT_DRAIN,
        OPT_CHECK,
        OPT_VERSION,
        OPT_HELP,
        OPT_INFO
    };
    static const struct option longopts[] = {
        {"config", required_argument, NULL, OPT_CONFIG},
        {"host", required_argument, NULL, OPT_HOST},
        {"port", required_argument, NULL, OPT_PORT},
        {"num_workers", required_argument, NULL, OPT_WORKERS},
        {"num-workers", required_argument, NULL, OPT_WORKERS},
        {"detailed_debug", no_argument, NULL, OPT_DEBUG},
        {"detailed-debug", no_argument, NULL, OPT_DEBUG},
        {"debug", no_argument, NULL, OPT_INFO},
        {"drain_timeout", required_argument, NULL, OPT_DRAIN},
        {"drain-timeout", required_argument, NULL, OPT_DRAIN},
        {"check", required_argument, NULL, OPT_CHECK},
        {"version", no_argument, NULL, OPT_VERSION},
        {"help", no_argument, NULL, OPT_HELP},
        {0, 0, 0, 0},
    };
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "c:", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
        case OPT_CONFIG:
            o->config_path = optarg;
            break;
        case OPT_HOST:
            o->host = optarg;
            break;
        case OPT_PORT:
            o->port = atoi(optarg);
            if (o->port <= 0 || o->port > 65535) {
                fprintf(stderr, "sluice: --port: '%s' is not a port number\n", optarg);
                return 2;
            }
            break;
        case OPT_WORKERS:
            o->num_workers = atoi(optarg);
            if (o->num_workers <= 0 || o->num_workers > 256) {
                fprintf(stderr, "sluice: --num_workers: '%s' is not between 1 and 256\n", optarg);
                return 2;
            }
            break;
        case OPT_DEBUG:
            log_min_level = LOG_DEBUG;
            break;
        case OPT_INFO:
            break;
        case OPT_DRAIN:
            o->drain_seconds = atof(optarg);
            break;
        case OPT_CHECK:
            *check_path = optarg;
            break;
        case OPT_VERSION:
            printf("sluice %s\n", SLUICE_VERSION);
            exit(0);
        case OPT_HELP:
            usage(stdout);
            exit(0);
        default:
            fprintf(stderr, "sluice: unknown option '%s'\n", argv[optind - 1]);
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "sluice: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    return 0;
}

int main(int argc, char **argv)
{
    options_t opts = {.host = "0.0.0.0", .port = 4000, .drain_seconds = 30};
    const char *check_path = NULL;
    int r = parse_args(argc, argv, &opts, &check_path);
    if (r)
        return r;
    if (check_path)
        return cfg_check(check_path, stdout) > 0 ? 1 : 0;
    if (!opts.config_path)
        opts.config_path = getenv("CONFIG_FILE_PATH");
    if (!opts.config_path) {
        fprintf(stderr, "sluice: no config: pass --config FILE (or set CONFIG_FILE_PATH)\n");
        usage(stderr);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);

    cfg_diag_t diag = {0};
    cfg_t *cfg = cfg_load(opts.config_path, &diag);
    for (size_t i = 0; i < diag.num_warnings; i++)
        log_warn("%s", diag.warnings[i]);
    for (size_t i = 0; i < diag.num_errors; i++)
        log_error("%s", diag.errors[i]);
    cfg_diag_free(&diag);
    if (!cfg) {
        log_error("cannot start: the config has errors (run `sluice --check %s`)",
                  opts.config_path);
        return 1;
    }
    if (cfg->json_logs)
        log_json = true;
    if (cfg->set_verbose && log_min_level > LOG_DEBUG)
        log_min_level = LOG_DEBUG;

    char err[512] = "";
    api_ctx_t ctx = {.cfg = cfg, .master_key = cfg->master_key};
    ctx.routes = route_table_new(cfg, err, sizeof err);
    if (!ctx.routes) {
        log_error("cannot start: %s", err);
        cfg_free(cfg);
        return 1;
    }
    if (!cfg->master_key)
        log_warn("no master_key configured: every request is allowed (set "
                 "general_settings.master_key or LITELLM_MASTER_KEY)");

    if (http_port_check(opts.host, opts.port) != 0) {
        log_error("cannot start: could not listen on %s:%d: address already in use", opts.host,
                  opts.port);
        route_table_free(ctx.routes);
        cfg_free(cfg);
        return 1;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    /* Vertex AI access tokens are fetched and refreshed off the request path, from now on */
    vauth_start_config(cfg);
    num_workers = opts.num_workers;
    if (num_workers <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        num_workers = n > 0 ? (int)n : 1;
    }
    workers = xcalloc((size_t)num_workers, sizeof *workers);
    uv_sem_t started;
    uv_sem_init(&started, 0);
    int failed = 0;
    for (int i = 0; i < num_workers; i++) {
        worker_t *w = &workers[i];
        w->index = i;
        w->opts = &opts;
        w->ctx = &ctx;
        w->cfg = cfg;
        w->started = &started;
        uv_thread_create(&w->thread, worker_main, w);
        uv_sem_wait(&started);
        failed |= w->failed;
    }
    uv_loop_t *loop = uv_default_loop();
    uv_signal_t sigterm, sigint;
    uv_signal_init(loop, &sigterm);
    uv_signal_init(loop, &sigint);
    sigterm.data = &sigint;
    sigint.data = &sigterm;
    uv_signal_start(&sigterm, on_signal, SIGTERM);
    uv_signal_start(&sigint, on_signal, SIGINT);
    if (failed) {
        log_error("cannot start: could not listen on %s:%d", opts.host, opts.port);
        on_signal(&sigterm, SIGTERM);
    } else {
        log_info("sluice %s: %zu deployments, %d workers", SLUICE_VERSION, cfg->num_deployments,
                 num_workers);
        log_info("sluice listening on http://%s:%d", opts.host, opts.port);
    }
    uv_run(loop, UV_RUN_DEFAULT);
    for (int i = 0; i < num_workers; i++)
        uv_thread_join(&workers[i].thread);
    uv_loop_close(loop);
    uv_sem_destroy(&started);
    free(workers);
    vauth_shutdown_all();
    route_table_free(ctx.routes);
    cfg_free(cfg);
    curl_global_cleanup();
    log_info("sluice stopped");
    return failed ? 1 : 0;
}
