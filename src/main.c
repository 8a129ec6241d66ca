/* SPDX-License-Identifier: MIT
 * sluice: the command line (LiteLLM's flags), worker threads each with its own loop, listener
 * and upstream client, and signals: SIGTERM or SIGINT drains in-flight requests, then exits 0. */
#include <curl/curl.h>
#include <getopt.h>
#include <libgen.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin/plane.h"
#include "api/api.h"
#include "auth/auth.h"
#include "config/config.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/common.h"
#include "core/log.h"
#include "core/str.h"
#include "http/http.h"
#include "limits/limits.h"
#include "providers/adapter.h"
#include "providers/vertex_auth.h"
#include "router/router.h"
#include "spend/spend.h"
#include "store/service.h"
#include "upstream/upstream.h"

typedef struct {
    const char *config_path;
    const char *host;
    int port;
    int num_workers;
    double drain_seconds;
    const char *db_path;     /* --db: the SQLite file (default: sluice.db beside the config) */
    const char *spool_path;  /* --spool: the outage spool (default: <db>.spool) */
    const char *prices_path; /* --prices: a LiteLLM-format price JSON */
    const char *role;        /* --role data|control|all */
} options_t;

typedef struct worker {
    int index;
    uv_thread_t thread;
    uv_loop_t loop;
    uv_async_t stop;
    api_worker_t api;
    admin_mailbox_t *mailbox; /* replies from the control plane */
    http_server_t *srv;
    const options_t *opts;
    const api_ctx_t *ctx;
    const cfg_t *cfg;
    uv_sem_t *started; /* posted once the listener is bound (or failed) */
    int failed;
} worker_t;

static worker_t *workers;
static int num_workers;
static admin_plane_t *control_plane;

/* Readiness of a process without a store thread: the control plane's own connection. */
static bool control_db_ok(void)
{
    return admin_plane_db_ok(control_plane);
}

/* Management routes arriving on a worker go to the control-plane thread, admins only. */
static void control_handoff(http_req_t *req)
{
    api_worker_t *aw = req->server_data;
    worker_t *w = (worker_t *)((char *)aw - offsetof(worker_t, api));
    auth_identity_t who;
    auth_status_t st = auth_check(aw->ctx->master_key, &req->head, &who);
    if (st != AUTH_OK) {
        api_send_error(req, 401, "auth_error", "None", auth_error_message(st, who.key));
        return;
    }
    if (!control_plane || !w->mailbox) {
        api_send_error(req, 503, "service_unavailable", "None",
                       "the control plane is not running in this process");
        return;
    }
    admin_plane_handoff(control_plane, w->mailbox, req);
}

/* store_model_in_db: the models the control-plane thread read become the next generation. */
typedef struct {
    api_ctx_t *ctx;
    const cfg_t *base; /* config.yaml as loaded at start-up */
} models_sink_t;

static int publish_models(void *arg, const cJSON *models)
{
    models_sink_t *sink = arg;
    cfg_diag_t diag;
    cfg_t *cfg = cfg_with_models(sink->base, models, &diag);
    for (size_t i = 0; i < diag.num_warnings; i++)
        log_warn("%s", diag.warnings[i]);
    for (size_t i = 0; i < diag.num_errors; i++)
        log_error("%s", diag.errors[i]);
    cfg_diag_free(&diag);
    if (!cfg)
        return -1;
    vauth_start_config(cfg); /* Vertex AI credentials the new models bring */
    char err[512] = "";
    api_gen_t *gen = api_gen_new(cfg, api_gen_current(sink->ctx), NULL, err, sizeof err);
    if (!gen) {
        log_error("models: %s; the models in use stay", err);
        return -1;
    }
    api_gen_publish(sink->ctx, gen);
    return 0;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: sluice --config FILE [--host HOST] [--port PORT] [--num_workers N]\n"
                 "              [--detailed_debug] [--drain_timeout SECONDS] [--db FILE]\n"
                 "              [--spool FILE] [--prices FILE] [--role data|control|all]\n"
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
                 "  --db FILE            SQLite database when no DATABASE_URL is set (default: "
                 "sluice.db beside the config)\n"
                 "  --spool FILE         where spend records wait while the database is down "
                 "(default: <db>.spool)\n"
                 "  --prices FILE        a LiteLLM-format model price JSON (also "
                 "$LITELLM_MODEL_COST_MAP_URL when it is a local path)\n"
                 "  --role ROLE          data (LLM routes), control (management routes) or all "
                 "(default)\n"
                 "  --check FILE         validate a config, print every problem, exit non-zero on "
                 "errors\n");
}

/* The rate-limit counters: shared through Redis when the config or the environment names one
 * (as LiteLLM finds it), else this process's own. */
static lim_table_t *limits_start(const cfg_t *cfg)
{
    lim_redis_conf_t redis;
    char err[256] = "";
    int found = lim_redis_conf_find(cfg, NULL, &redis, err, sizeof err);
    lim_opts_t opts = {.redis = found == 1 ? &redis : NULL};
    lim_table_t *t = lim_table_new(&opts);
    if (found == 1) {
        log_info("rate limits: shared through Redis at %s:%d (settings from %s); until it answers, "
                 "and whenever it does not, each instance enforces them alone",
                 redis.host, redis.port, redis.source);
        lim_redis_conf_dispose(&redis);
    } else if (found < 0) {
        log_warn("rate limits: %s; local limits (this instance enforces them alone)", err);
    } else {
        log_info("rate limits: local limits (no Redis configured: each instance enforces them "
                 "alone)");
    }
    return t;
}

/* The response cache (litellm_settings.cache: true; docs/cache.md): a local table, or the
 * thread that owns the Redis connection (cache_params.type: redis, found as the limits find it). */
static void cache_start(const cfg_t *cfg, api_ctx_t *ctx, int n_workers)
{
    if (!cfg->cache_on)
        return;
    if (cfg->cache_type && strcmp(cfg->cache_type, "redis") == 0) {
        lim_redis_conf_t redis;
        char err[256] = "";
        if (lim_redis_conf_find(cfg, NULL, &redis, err, sizeof err) == 1) {
            cache_redis_opts_t o = {
                .host = redis.host,
                .port = redis.port,
                .username = redis.username,
                .password = redis.password,
                .db = redis.db,
                .lookup_timeout_ms = cfg->cache_socket_timeout_s > 0
                                         ? (unsigned)(cfg->cache_socket_timeout_s * 1000 + 0.5)
                                         : 0,
            };
            ctx->cache_redis = cache_redis_start(&o, n_workers);
            if (ctx->cache_redis)
                log_info("response cache: Redis at %s:%d (settings from %s), ttl %.0f s",
                         redis.host, redis.port, redis.source, cfg->cache_ttl_s);
            lim_redis_conf_dispose(&redis);
            ctx->cache_on = ctx->cache_redis != NULL;
            return;
        }
        log_warn("response cache: type redis, but %s; using the local cache",
                 err[0] ? err : "no Redis is configured");
    } else if (cfg->cache_type && strcmp(cfg->cache_type, "local") != 0) {
        log_warn("response cache: cache_params.type %s is not supported; using the local "
                 "(in-memory) cache",
                 cfg->cache_type);
    }
    size_t bytes = (size_t)(cfg->cache_max_memory_mb * 1024 * 1024);
    size_t entries = cfg->cache_max_entries > 0 ? (size_t)cfg->cache_max_entries : 200;
    ctx->cache = cache_new(entries, bytes ? bytes : 1);
    ctx->cache_on = ctx->cache != NULL;
    if (ctx->cache)
        log_info("response cache: local, up to %zu entries and %.0f MiB, ttl %.0f s", entries,
                 cfg->cache_max_memory_mb, cfg->cache_ttl_s);
}

/* A file named `name` in the directory of the config file (malloc'd). */
static char *beside_config(const char *config_path, const char *name)
{
    char *copy = xstrdup(config_path);
    char *dir = dirname(copy);
    buf_t b = {0};
    buf_printf(&b, "%s/%s", dir, name);
    buf_append(&b, "", 1);
    free(copy);
    return b.p;
}

static void on_server_drained(void *arg)
{
    worker_t *w = arg;
    up_client_free(w->api.up);
    w->api.up = NULL;
    api_worker_close(&w->api);
    admin_mailbox_close(w->mailbox);
    w->mailbox = NULL;
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
    char name[16];
    snprintf(name, sizeof name, "sluice-w%d", w->index);
    thread_name(name);
    uv_loop_init(&w->loop);
    uv_async_init(&w->loop, &w->stop, on_stop);
    w->stop.data = w;
    w->api.ctx = w->ctx;
    w->api.rng = route_rng_seed();
    w->api.index = w->index;
    w->api.up = up_client_new(&w->loop);
    api_worker_init(&w->api, &w->loop);
    if (w->ctx->control_handoff)
        w->mailbox = admin_mailbox_new(&w->loop);
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
        api_worker_close(&w->api);
        admin_mailbox_close(w->mailbox);
        w->mailbox = NULL;
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
        OPT_INFO,
        OPT_DB,
        OPT_SPOOL,
        OPT_PRICES,
        OPT_ROLE
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
        {"db", required_argument, NULL, OPT_DB},
        {"spool", required_argument, NULL, OPT_SPOOL},
        {"prices", required_argument, NULL, OPT_PRICES},
        {"role", required_argument, NULL, OPT_ROLE},
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
        case OPT_DB:
            o->db_path = optarg;
            break;
        case OPT_SPOOL:
            o->spool_path = optarg;
            break;
        case OPT_PRICES:
            o->prices_path = optarg;
            break;
        case OPT_ROLE:
            if (strcmp(optarg, "data") && strcmp(optarg, "control") && strcmp(optarg, "all")) {
                fprintf(stderr, "sluice: --role: '%s' is not data, control or all\n", optarg);
                return 2;
            }
            o->role = optarg;
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
    api_ctx_t ctx = {.master_key = cfg->master_key};
    const char *prices_path = opts.prices_path;
    const char *cost_map = getenv("LITELLM_MODEL_COST_MAP_URL");
    if (!prices_path && cost_map && !strstr(cost_map, "://"))
        prices_path = cost_map;
    else if (!prices_path && cost_map && strncmp(cost_map, "file://", 7) == 0)
        prices_path = cost_map + 7;
    /* the first generation: the config's models (its own copy: main keeps cfg, the settings) */
    api_gen_t *first =
        api_gen_new(cfg_with_models(cfg, NULL, NULL), NULL, prices_path, err, sizeof err);
    if (!first) {
        log_error("cannot start: prices: %s", err);
        cfg_free(cfg);
        return 1;
    }
    api_gen_publish(&ctx, first);
    if (!cfg->master_key)
        log_warn("no master_key configured: every request is allowed (set "
                 "general_settings.master_key or LITELLM_MASTER_KEY)");
    const char *role = opts.role ? opts.role : "all";
    ctx.serve_data = strcmp(role, "control") != 0;
    ctx.serve_control = strcmp(role, "data") != 0;
    if (cfg->master_key) {
        auth_hash_t h;
        if (auth_key_hash(str_cstr(cfg->master_key), &h) == 0)
            auth_hash_hex(&h, ctx.master_hash);
    }
    /* where spend and keys live: PostgreSQL when a URL is set, else a SQLite file */
    const char *pg_url = cfg->database_url;
    char *db_path = NULL, *spool_path = NULL;
    if (!pg_url)
        db_path =
            opts.db_path ? xstrdup(opts.db_path) : beside_config(opts.config_path, "sluice.db");
    if (opts.spool_path)
        spool_path = xstrdup(opts.spool_path);
    else if (db_path) {
        buf_t b = {0};
        buf_printf(&b, "%s.spool", db_path);
        buf_append(&b, "", 1);
        spool_path = b.p;
    } else
        spool_path = beside_config(opts.config_path, "sluice.spool");

    if (http_port_check(opts.host, opts.port) != 0) {
        log_error("cannot start: could not listen on %s:%d: address already in use", opts.host,
                  opts.port);
        api_gen_free_all(&ctx);
        free(db_path);
        free(spool_path);
        cfg_free(cfg);
        return 1;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (ctx.serve_data) {
        /* virtual keys, read by every worker, filled by the store thread */
        auth_cache_opts_t ko = {
            .ttl_ms = (uint64_t)(cfg->user_api_key_cache_ttl_s * 1000),
            .on_answer = api_keys_on_answer,
            .on_answer_arg = &ctx,
        };
        ctx.keys = auth_cache_new(&ko);
        store_svc_opts_t so = {
            .sqlite_path = db_path,
            .pg_conninfo = pg_url,
            .spool_path = spool_path,
            .batch_seconds = cfg->proxy_batch_write_at_s,
            .write_logs = !cfg->disable_spend_logs,
            .cache = ctx.keys,
            .max_end_user_budget_id = cfg->max_end_user_budget_id,
        };
        char *serr = NULL;
        ctx.store = store_svc_start(&so, &serr);
        if (!ctx.store) {
            log_error("cannot start: the store: %s", serr ? serr : "?");
            free(serr);
            auth_cache_free(ctx.keys);
            api_gen_free_all(&ctx);
            free(db_path);
            free(spool_path);
            cfg_free(cfg);
            return 1;
        }
        log_info("spend and keys: %s%s", pg_url ? "PostgreSQL" : "SQLite ", pg_url ? "" : db_path);
    }
    /* store_model_in_db: the control-plane thread reads the models table and publishes each
     * change as a new generation. --role data runs that thread for this alone (no management
     * call is handed to it), so a data-plane pod routes the models its control plane stores. */
    models_sink_t sink = {.ctx = &ctx, .base = cfg};
    bool publish = cfg->store_model_in_db && ctx.serve_data;
    if (ctx.serve_control || publish) {
        admin_plane_opts_t po = {
            .cfg = cfg,
            .sqlite_path = db_path,
            .pg_conninfo = pg_url,
            .keys = ctx.keys,
            .publish_models = publish ? publish_models : NULL,
            .publish_arg = &sink,
            .open_at_start = !ctx.store,
        };
        char *perr = NULL;
        control_plane = admin_plane_start(&po, &perr);
        if (!control_plane) {
            log_error("cannot start: %s", perr ? perr : "the control plane");
            free(perr);
            if (ctx.store)
                store_svc_stop(ctx.store, 0);
            if (ctx.keys)
                auth_cache_free(ctx.keys);
            api_gen_free_all(&ctx);
            free(db_path);
            free(spool_path);
            cfg_free(cfg);
            return 1;
        }
        if (ctx.serve_control) {
            ctx.control_handoff = control_handoff;
            ctx.control_db_ok = control_db_ok;
        }
        if (publish)
            log_info("store_model_in_db: models of LiteLLM_ProxyModelTable are routed (read at "
                     "start, on every change made here, and every %d s)",
                     ADMIN_MODELS_POLL_MS / 1000);
    }
    /* Vertex AI access tokens are fetched and refreshed off the request path, from now on */
    vauth_start_config(cfg);
    if (ctx.serve_data) {
        ctx.limits = limits_start(cfg);
        lim_stats_t lst;
        lim_table_stats(ctx.limits, &lst);
        ctx.limits_redis = lst.redis;
    }
    num_workers = opts.num_workers;
    if (num_workers <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        num_workers = n > 0 ? (int)n : 1;
    }
    if (ctx.serve_data)
        cache_start(cfg, &ctx, num_workers);
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
    lim_table_free(ctx.limits); /* no worker reads it any more */
    cache_free(ctx.cache);
    cache_redis_stop(ctx.cache_redis);
    admin_plane_stop(control_plane);
    if (ctx.store)
        store_svc_stop(ctx.store, 5000); /* what is queued is written, or spooled */
    if (ctx.keys)
        auth_cache_free(ctx.keys);
    free(db_path);
    free(spool_path);
    uv_loop_close(loop);
    uv_sem_destroy(&started);
    free(workers);
    vauth_shutdown_all();
    api_gen_free_all(&ctx); /* no worker and no control plane is left to use them */
    cfg_free(cfg);
    curl_global_cleanup();
    log_info("sluice stopped");
    return failed ? 1 : 0;
}
