/* SPDX-License-Identifier: MIT
 * The LiteLLM tables, described once from schema.prisma (see reference/litellm.md §4), and their
 * rendering into SQLite and PostgreSQL DDL. Foreign keys are left out on purpose: sluice writes
 * rows in LiteLLM's order anyway, and on a LiteLLM database Prisma's constraints already exist. */
#include "store/schema.h"

#include <stdio.h>
#include <string.h>

#include "core/common.h"

#define NN true
#define OPT false
#define COL(name, type, nn, def)                                                                   \
    {                                                                                              \
        name, STORE_TYPE_##type, nn, STORE_DEF_##def                                               \
    }
#define IDX(...)                                                                                   \
    {                                                                                              \
        {__VA_ARGS__, NULL}, false                                                                 \
    }
#define UNIQUE(...)                                                                                \
    {                                                                                              \
        {__VA_ARGS__, NULL}, true                                                                  \
    }
#define TABLE(tname, cols, idx, ...)                                                               \
    {                                                                                              \
        tname, cols, COUNTOF(cols), {__VA_ARGS__, NULL}, idx, COUNTOF(idx)                         \
    }

/* Budget / rate limits shared by orgs, keys, end users, team members. */
static const store_column_t budget_cols[] = {
    COL("budget_id", TEXT, NN, NONE),         COL("max_budget", FLOAT, OPT, NONE),
    COL("soft_budget", FLOAT, OPT, NONE),     COL("max_parallel_requests", INT, OPT, NONE),
    COL("tpm_limit", BIGINT, OPT, NONE),      COL("rpm_limit", BIGINT, OPT, NONE),
    COL("model_max_budget", JSON, OPT, NONE), COL("budget_duration", TEXT, OPT, NONE),
    COL("budget_reset_at", TIME, OPT, NONE),  COL("allowed_models", TEXT_LIST, OPT, EMPTY_LIST),
    COL("created_at", TIME, NN, NOW),         COL("created_by", TEXT, NN, NONE),
    COL("updated_at", TIME, NN, NOW),         COL("updated_by", TEXT, NN, NONE),
};
static const store_index_t no_idx[] = {{{NULL}, false}}; /* an empty entry is skipped */

static const store_column_t proxy_model_cols[] = {
    COL("model_id", TEXT, NN, NONE),       COL("model_name", TEXT, NN, NONE),
    COL("litellm_params", JSON, NN, NONE), COL("model_info", JSON, OPT, NONE),
    COL("blocked", BOOL, NN, FALSE),       COL("created_at", TIME, NN, NOW),
    COL("created_by", TEXT, NN, NONE),     COL("updated_at", TIME, NN, NOW),
    COL("updated_by", TEXT, NN, NONE),
};

static const store_column_t org_cols[] = {
    COL("organization_id", TEXT, NN, NONE),    COL("organization_alias", TEXT, NN, NONE),
    COL("budget_id", TEXT, NN, NONE),          COL("metadata", JSON, NN, JSON_OBJECT),
    COL("models", TEXT_LIST, OPT, NONE),       COL("spend", FLOAT, NN, ZERO),
    COL("model_spend", JSON, NN, JSON_OBJECT), COL("object_permission_id", TEXT, OPT, NONE),
    COL("created_at", TIME, NN, NOW),          COL("created_by", TEXT, NN, NONE),
    COL("updated_at", TIME, NN, NOW),          COL("updated_by", TEXT, NN, NONE),
};

static const store_column_t team_cols[] = {
    COL("team_id", TEXT, NN, NONE),
    COL("team_alias", TEXT, OPT, NONE),
    COL("organization_id", TEXT, OPT, NONE),
    COL("object_permission_id", TEXT, OPT, NONE),
    COL("admins", TEXT_LIST, OPT, NONE),
    COL("members", TEXT_LIST, OPT, NONE),
    COL("members_with_roles", JSON, NN, JSON_OBJECT),
    COL("metadata", JSON, NN, JSON_OBJECT),
    COL("max_budget", FLOAT, OPT, NONE),
    COL("soft_budget", FLOAT, OPT, NONE),
    COL("spend", FLOAT, NN, ZERO),
    COL("models", TEXT_LIST, OPT, NONE),
    COL("max_parallel_requests", INT, OPT, NONE),
    COL("tpm_limit", BIGINT, OPT, NONE),
    COL("rpm_limit", BIGINT, OPT, NONE),
    COL("budget_duration", TEXT, OPT, NONE),
    COL("budget_reset_at", TIME, OPT, NONE),
    COL("blocked", BOOL, NN, FALSE),
    COL("created_at", TIME, NN, NOW),
    COL("updated_at", TIME, NN, NOW),
    COL("model_spend", JSON, NN, JSON_OBJECT),
    COL("model_max_budget", JSON, NN, JSON_OBJECT),
    COL("router_settings", JSON, OPT, JSON_OBJECT),
    COL("team_member_permissions", TEXT_LIST, OPT, EMPTY_LIST),
    COL("access_group_ids", TEXT_LIST, OPT, EMPTY_LIST),
    COL("policies", TEXT_LIST, OPT, EMPTY_LIST),
    COL("default_team_member_models", TEXT_LIST, OPT, EMPTY_LIST),
    COL("budget_limits", JSON, OPT, NONE),
    COL("model_id", INT, OPT, NONE),
    COL("allow_team_guardrail_config", BOOL, NN, FALSE),
};
static const store_index_t team_idx[] = {
    UNIQUE("model_id"),
    IDX("organization_id"),
    IDX("team_alias"),
    IDX("created_at"),
};

static const store_column_t user_cols[] = {
    COL("user_id", TEXT, NN, NONE),
    COL("user_alias", TEXT, OPT, NONE),
    COL("team_id", TEXT, OPT, NONE),
    COL("sso_user_id", TEXT, OPT, NONE),
    COL("organization_id", TEXT, OPT, NONE),
    COL("object_permission_id", TEXT, OPT, NONE),
    COL("password", TEXT, OPT, NONE),
    COL("teams", TEXT_LIST, OPT, EMPTY_LIST),
    COL("user_role", TEXT, OPT, NONE),
    COL("max_budget", FLOAT, OPT, NONE),
    COL("spend", FLOAT, NN, ZERO),
    COL("user_email", TEXT, OPT, NONE),
    COL("models", TEXT_LIST, OPT, NONE),
    COL("metadata", JSON, NN, JSON_OBJECT),
    COL("max_parallel_requests", INT, OPT, NONE),
    COL("tpm_limit", BIGINT, OPT, NONE),
    COL("rpm_limit", BIGINT, OPT, NONE),
    COL("budget_duration", TEXT, OPT, NONE),
    COL("budget_reset_at", TIME, OPT, NONE),
    COL("allowed_cache_controls", TEXT_LIST, OPT, EMPTY_LIST),
    COL("policies", TEXT_LIST, OPT, EMPTY_LIST),
    COL("model_spend", JSON, NN, JSON_OBJECT),
    COL("model_max_budget", JSON, NN, JSON_OBJECT),
    COL("created_at", TIME, OPT, NOW),
    COL("updated_at", TIME, OPT, NOW),
};
static const store_index_t user_idx[] = {UNIQUE("sso_user_id")};

static const store_column_t key_cols[] = {
    COL("token", TEXT, NN, NONE),
    COL("key_name", TEXT, OPT, NONE),
    COL("key_alias", TEXT, OPT, NONE),
    COL("soft_budget_cooldown", BOOL, NN, FALSE),
    COL("spend", FLOAT, NN, ZERO),
    COL("expires", TIME, OPT, NONE),
    COL("models", TEXT_LIST, OPT, NONE),
    COL("aliases", JSON, NN, JSON_OBJECT),
    COL("config", JSON, NN, JSON_OBJECT),
    COL("router_settings", JSON, OPT, JSON_OBJECT),
    COL("user_id", TEXT, OPT, NONE),
    COL("team_id", TEXT, OPT, NONE),
    COL("agent_id", TEXT, OPT, NONE),
    COL("project_id", TEXT, OPT, NONE),
    COL("permissions", JSON, NN, JSON_OBJECT),
    COL("max_parallel_requests", INT, OPT, NONE),
    COL("metadata", JSON, NN, JSON_OBJECT),
    COL("blocked", BOOL, OPT, NONE),
    COL("tpm_limit", BIGINT, OPT, NONE),
    COL("rpm_limit", BIGINT, OPT, NONE),
    COL("max_budget", FLOAT, OPT, NONE),
    COL("budget_duration", TEXT, OPT, NONE),
    COL("budget_reset_at", TIME, OPT, NONE),
    COL("allowed_cache_controls", TEXT_LIST, OPT, EMPTY_LIST),
    COL("allowed_routes", TEXT_LIST, OPT, EMPTY_LIST),
    COL("policies", TEXT_LIST, OPT, EMPTY_LIST),
    COL("access_group_ids", TEXT_LIST, OPT, EMPTY_LIST),
    COL("model_spend", JSON, NN, JSON_OBJECT),
    COL("model_max_budget", JSON, NN, JSON_OBJECT),
    COL("budget_id", TEXT, OPT, NONE),
    COL("organization_id", TEXT, OPT, NONE),
    COL("object_permission_id", TEXT, OPT, NONE),
    COL("created_at", TIME, OPT, NOW),
    COL("created_by", TEXT, OPT, NONE),
    COL("updated_at", TIME, OPT, NOW),
    COL("updated_by", TEXT, OPT, NONE),
    COL("last_active", TIME, OPT, NONE),
    COL("rotation_count", INT, OPT, ZERO),
    COL("auto_rotate", BOOL, OPT, FALSE),
    COL("rotation_interval", TEXT, OPT, NONE),
    COL("last_rotation_at", TIME, OPT, NONE),
    COL("key_rotation_at", TIME, OPT, NONE),
    COL("budget_limits", JSON, OPT, NONE),
};
static const store_index_t key_idx[] = {
    IDX("user_id", "team_id"),
    IDX("team_id"),
    IDX("budget_reset_at", "expires"),
};

static const store_column_t end_user_cols[] = {
    COL("user_id", TEXT, NN, NONE),
    COL("alias", TEXT, OPT, NONE),
    COL("spend", FLOAT, NN, ZERO),
    COL("allowed_model_region", TEXT, OPT, NONE),
    COL("default_model", TEXT, OPT, NONE),
    COL("budget_id", TEXT, OPT, NONE),
    COL("object_permission_id", TEXT, OPT, NONE),
    COL("blocked", BOOL, NN, FALSE),
};

static const store_column_t team_member_cols[] = {
    COL("user_id", TEXT, NN, NONE),    COL("team_id", TEXT, NN, NONE),
    COL("spend", FLOAT, NN, ZERO),     COL("total_spend", FLOAT, NN, ZERO),
    COL("budget_id", TEXT, OPT, NONE),
};

static const store_column_t spend_log_cols[] = {
    COL("request_id", TEXT, NN, NONE),
    COL("call_type", TEXT, NN, NONE),
    COL("api_key", TEXT, NN, EMPTY_TEXT),
    COL("spend", FLOAT, NN, ZERO),
    COL("total_tokens", INT, NN, ZERO),
    COL("prompt_tokens", INT, NN, ZERO),
    COL("completion_tokens", INT, NN, ZERO),
    COL("startTime", TIME, NN, NONE),
    COL("endTime", TIME, NN, NONE),
    COL("request_duration_ms", INT, OPT, NONE),
    COL("completionStartTime", TIME, OPT, NONE),
    COL("model", TEXT, NN, EMPTY_TEXT),
    COL("model_id", TEXT, OPT, EMPTY_TEXT),
    COL("model_group", TEXT, OPT, EMPTY_TEXT),
    COL("custom_llm_provider", TEXT, OPT, EMPTY_TEXT),
    COL("api_base", TEXT, OPT, EMPTY_TEXT),
    COL("user", TEXT, OPT, EMPTY_TEXT),
    COL("metadata", JSON, OPT, JSON_OBJECT),
    COL("cache_hit", TEXT, OPT, EMPTY_TEXT),
    COL("cache_key", TEXT, OPT, EMPTY_TEXT),
    COL("request_tags", JSON, OPT, JSON_ARRAY),
    COL("team_id", TEXT, OPT, NONE),
    COL("organization_id", TEXT, OPT, NONE),
    COL("end_user", TEXT, OPT, NONE),
    COL("requester_ip_address", TEXT, OPT, NONE),
    COL("messages", JSON, OPT, JSON_OBJECT),
    COL("response", JSON, OPT, JSON_OBJECT),
    COL("session_id", TEXT, OPT, NONE),
    COL("status", TEXT, OPT, NONE),
    COL("mcp_namespaced_tool_name", TEXT, OPT, NONE),
    COL("agent_id", TEXT, OPT, NONE),
    COL("proxy_server_request", JSON, OPT, JSON_OBJECT),
};
static const store_index_t spend_log_idx[] = {
    IDX("startTime"),  IDX("startTime", "request_id"), IDX("end_user"),
    IDX("session_id"), IDX("api_key", "startTime"), /* budget-window sums per key (LiteLLM PR
                                                       #37983) */
};

/* The Daily*Spend tables differ only in their entity column(s). */
#define DAILY_TAIL                                                                                 \
    COL("date", TEXT, NN, NONE), COL("api_key", TEXT, NN, NONE), COL("model", TEXT, OPT, NONE),    \
        COL("model_group", TEXT, OPT, NONE), COL("custom_llm_provider", TEXT, OPT, NONE),          \
        COL("mcp_namespaced_tool_name", TEXT, OPT, NONE), COL("endpoint", TEXT, OPT, NONE),        \
        COL("prompt_tokens", BIGINT, NN, ZERO), COL("completion_tokens", BIGINT, NN, ZERO),        \
        COL("cache_read_input_tokens", BIGINT, NN, ZERO),                                          \
        COL("cache_creation_input_tokens", BIGINT, NN, ZERO), COL("spend", FLOAT, NN, ZERO),       \
        COL("api_requests", BIGINT, NN, ZERO), COL("successful_requests", BIGINT, NN, ZERO),       \
        COL("failed_requests", BIGINT, NN, ZERO), COL("created_at", TIME, NN, NOW),                \
        COL("updated_at", TIME, NN, NONE)
#define DAILY_IDX(e)                                                                               \
    UNIQUE(e, "date", "api_key", "model", "custom_llm_provider", "mcp_namespaced_tool_name",       \
           "endpoint"),                                                                            \
        IDX("date"), IDX(e, "date"), IDX("api_key"), IDX("model"),                                 \
        IDX("mcp_namespaced_tool_name"), IDX("endpoint")

static const store_column_t daily_user_cols[] = {COL("id", TEXT, NN, NONE),
                                                 COL("user_id", TEXT, OPT, NONE), DAILY_TAIL};
static const store_index_t daily_user_idx[] = {DAILY_IDX("user_id")};
static const store_column_t daily_team_cols[] = {COL("id", TEXT, NN, NONE),
                                                 COL("team_id", TEXT, OPT, NONE), DAILY_TAIL};
static const store_index_t daily_team_idx[] = {DAILY_IDX("team_id")};
static const store_column_t daily_org_cols[] = {
    COL("id", TEXT, NN, NONE), COL("organization_id", TEXT, OPT, NONE), DAILY_TAIL};
static const store_index_t daily_org_idx[] = {DAILY_IDX("organization_id")};
static const store_column_t daily_end_user_cols[] = {
    COL("id", TEXT, NN, NONE), COL("end_user_id", TEXT, OPT, NONE), DAILY_TAIL};
static const store_index_t daily_end_user_idx[] = {DAILY_IDX("end_user_id")};
static const store_column_t daily_agent_cols[] = {COL("id", TEXT, NN, NONE),
                                                  COL("agent_id", TEXT, OPT, NONE), DAILY_TAIL};
static const store_index_t daily_agent_idx[] = {DAILY_IDX("agent_id")};
static const store_column_t daily_tag_cols[] = {COL("id", TEXT, NN, NONE),
                                                COL("request_id", TEXT, OPT, NONE),
                                                COL("tag", TEXT, OPT, NONE), DAILY_TAIL};
static const store_index_t daily_tag_idx[] = {DAILY_IDX("tag")};

static const store_table_t tables[] = {
    TABLE("LiteLLM_BudgetTable", budget_cols, no_idx, "budget_id"),
    TABLE("LiteLLM_ProxyModelTable", proxy_model_cols, no_idx, "model_id"),
    TABLE("LiteLLM_OrganizationTable", org_cols, no_idx, "organization_id"),
    TABLE("LiteLLM_TeamTable", team_cols, team_idx, "team_id"),
    TABLE("LiteLLM_UserTable", user_cols, user_idx, "user_id"),
    TABLE("LiteLLM_VerificationToken", key_cols, key_idx, "token"),
    TABLE("LiteLLM_EndUserTable", end_user_cols, no_idx, "user_id"),
    TABLE("LiteLLM_TeamMembership", team_member_cols, no_idx, "user_id", "team_id"),
    TABLE("LiteLLM_SpendLogs", spend_log_cols, spend_log_idx, "request_id"),
    TABLE("LiteLLM_DailyUserSpend", daily_user_cols, daily_user_idx, "id"),
    TABLE("LiteLLM_DailyTeamSpend", daily_team_cols, daily_team_idx, "id"),
    TABLE("LiteLLM_DailyOrganizationSpend", daily_org_cols, daily_org_idx, "id"),
    TABLE("LiteLLM_DailyEndUserSpend", daily_end_user_cols, daily_end_user_idx, "id"),
    TABLE("LiteLLM_DailyAgentSpend", daily_agent_cols, daily_agent_idx, "id"),
    TABLE("LiteLLM_DailyTagSpend", daily_tag_cols, daily_tag_idx, "id"),
};

#define PTR(i) &tables[i]
const store_table_t *const store_schema_tables[] = {
    PTR(0), PTR(1), PTR(2),  PTR(3),  PTR(4),  PTR(5),  PTR(6),  PTR(7),
    PTR(8), PTR(9), PTR(10), PTR(11), PTR(12), PTR(13), PTR(14),
};
const size_t store_schema_num_tables = COUNTOF(store_schema_tables);
_Static_assert(COUNTOF(store_schema_tables) == COUNTOF(tables), "every table listed");

const store_table_t *store_schema_table(const char *name)
{
    for (size_t i = 0; i < COUNTOF(tables); i++)
        if (strcmp(tables[i].name, name) == 0)
            return &tables[i];
    return NULL;
}

const store_column_t *store_schema_column(const store_table_t *t, const char *name)
{
    for (size_t i = 0; i < t->num_columns; i++)
        if (strcmp(t->columns[i].name, name) == 0)
            return &t->columns[i];
    return NULL;
}

int store_schema_quote(buf_t *out, const char *ident)
{
    if (buf_append(out, "\"", 1) < 0)
        return -1;
    for (const char *p = ident; *p; p++) {
        int rc = *p == '"' ? buf_append(out, "\"\"", 2) : buf_append(out, p, 1);
        if (rc < 0)
            return -1;
    }
    return buf_append(out, "\"", 1);
}

static const char *type_sql(store_dialect_t d, store_type_t t)
{
    static const char *const pg[] = {"TEXT",  "DOUBLE PRECISION", "INTEGER", "BIGINT", "BOOLEAN",
                                     "JSONB", "TIMESTAMP(3)",     "TEXT[]"};
    static const char *const lite[] = {"TEXT",    "REAL", "INTEGER", "INTEGER",
                                       "INTEGER", "TEXT", "TEXT",    "TEXT"};
    return d == STORE_DIALECT_POSTGRES ? pg[t] : lite[t];
}

static const char *default_sql(store_dialect_t d, const store_column_t *c)
{
    bool pg = d == STORE_DIALECT_POSTGRES;
    switch (c->def) {
    case STORE_DEF_NONE:
        return NULL;
    case STORE_DEF_ZERO:
        return c->type == STORE_TYPE_FLOAT ? "0.0" : "0";
    case STORE_DEF_FALSE:
        return pg ? "false" : "0";
    case STORE_DEF_TRUE:
        return pg ? "true" : "1";
    case STORE_DEF_EMPTY_TEXT:
        return "''";
    case STORE_DEF_JSON_OBJECT:
        return "'{}'";
    case STORE_DEF_JSON_ARRAY:
        return "'[]'";
    case STORE_DEF_EMPTY_LIST:
        return pg ? "ARRAY[]::TEXT[]" : "'[]'";
    case STORE_DEF_NOW:
        return "CURRENT_TIMESTAMP";
    }
    return NULL;
}

/* Prisma's constraint names: "<table>_<col>_<col>..." cut so that the suffix still fits in
 * PostgreSQL's 63-byte identifiers
 * ("LiteLLM_DailyUserSpend_user_id_date_api_key_model_custom_ll_key"). */
static int append_object_name(buf_t *out, const char *table, const char *const *cols,
                              const char *suffix)
{
    char name[128];
    size_t n = 0;
    n += (size_t)snprintf(name + n, sizeof name - n, "%s", table);
    for (size_t i = 0; cols && cols[i] && n < sizeof name; i++)
        n += (size_t)snprintf(name + n, sizeof name - n, "_%s", cols[i]);
    if (n >= sizeof name)
        n = sizeof name - 1;
    size_t room = 63 - strlen(suffix);
    if (n > room)
        n = room;
    snprintf(name + n, sizeof name - n, "%s", suffix);
    return store_schema_quote(out, name);
}

static int append_column_list(buf_t *out, const char *const *cols)
{
    if (buf_append(out, "(", 1) < 0)
        return -1;
    for (size_t i = 0; cols[i]; i++)
        if ((i && buf_append(out, ", ", 2) < 0) || store_schema_quote(out, cols[i]) < 0)
            return -1;
    return buf_append(out, ")", 1);
}

int store_schema_table_ddl(store_dialect_t d, const store_table_t *t, buf_t *out)
{
    if (buf_append_cstr(out, "CREATE TABLE IF NOT EXISTS ") < 0 ||
        store_schema_quote(out, t->name) < 0 || buf_append_cstr(out, " (\n") < 0)
        return -1;
    for (size_t i = 0; i < t->num_columns; i++) {
        const store_column_t *c = &t->columns[i];
        const char *def = default_sql(d, c);
        if (buf_append_cstr(out, "    ") < 0 || store_schema_quote(out, c->name) < 0 ||
            buf_printf(out, " %s%s", type_sql(d, c->type), c->not_null ? " NOT NULL" : "") < 0 ||
            (def && buf_printf(out, " DEFAULT %s", def) < 0) || buf_append_cstr(out, ",\n") < 0)
            return -1;
    }
    if (buf_append_cstr(out, "    ") < 0)
        return -1;
    if (d == STORE_DIALECT_POSTGRES &&
        (buf_append_cstr(out, "CONSTRAINT ") < 0 ||
         append_object_name(out, t->name, NULL, "_pkey") < 0 || buf_append_cstr(out, " ") < 0))
        return -1;
    if (buf_append_cstr(out, "PRIMARY KEY ") < 0 || append_column_list(out, t->primary_key) < 0 ||
        buf_append_cstr(out, "\n);\n") < 0)
        return -1;
    for (size_t i = 0; i < t->num_indexes; i++) {
        const store_index_t *x = &t->indexes[i];
        if (!x->columns[0])
            continue;
        if (buf_printf(out, "CREATE %sINDEX IF NOT EXISTS ", x->unique ? "UNIQUE " : "") < 0 ||
            append_object_name(out, t->name, x->columns, x->unique ? "_key" : "_idx") < 0 ||
            buf_append_cstr(out, " ON ") < 0 || store_schema_quote(out, t->name) < 0 ||
            append_column_list(out, x->columns) < 0 || buf_append_cstr(out, ";\n") < 0)
            return -1;
    }
    return 0;
}

int store_schema_ddl(store_dialect_t d, buf_t *out)
{
    for (size_t i = 0; i < COUNTOF(tables); i++)
        if (store_schema_table_ddl(d, &tables[i], out) < 0)
            return -1;
    return 0;
}

int store_schema_absent_ddl(store_dialect_t d, const bool *exists, buf_t *out)
{
    int absent = 0;
    for (size_t i = 0; i < COUNTOF(tables); i++) {
        if (exists[i])
            continue;
        if (store_schema_table_ddl(d, &tables[i], out) < 0)
            return -1;
        absent++;
    }
    return absent;
}
