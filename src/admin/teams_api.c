/* SPDX-License-Identifier: MIT
 * The /team/... and /user/... management handlers (admin_team_routes): LiteLLM_TeamTable,
 * LiteLLM_UserTable and LiteLLM_TeamMembership rows in LiteLLM's request and response shapes.
 * A team's members live in three places, kept in step here as LiteLLM keeps them:
 * members_with_roles (JSON list of {role, user_id, user_email}) and members on the team, teams on
 * each user, and one membership row per (user, team) that carries the member's spend and budget.
 * A change the data plane checks (a team's limits or blocked flag, a user's budget, a deletion)
 * lists the token hashes of the keys it touches in res->invalidated. Deleting a team or a user
 * deletes its keys, as LiteLLM does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "admin/internal.h"
#include "admin/misc.h"

#define USER_LIST_SIZE_DEFAULT 25
#define USER_LIST_SIZE_MAX 100
#define TEAM_NOT_FOUND "Team not found, passed team_id=%s"

static const store_table_t *table(const char *name)
{
    return store_schema_table(name);
}

/* ---- checks ---------------------------------------------------------------------------------- */

/* A member `name` of body that must be a non-empty string when present. NULL when absent or
 * null; *bad when it has another type. */
static const char *opt_string(const cJSON *body, const char *name, bool *bad)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, name);
    *bad = v && !cJSON_IsNull(v) && (!cJSON_IsString(v) || !v->valuestring[0]);
    return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : NULL;
}

/* user_role must be one LiteLLM's NewUserRequest / UpdateUserRequest accept. */
static const char *check_user_role(const cJSON *body)
{
    static const char *const roles[] = {"proxy_admin", "proxy_admin_viewer", "internal_user",
                                        "internal_user_viewer"};
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, "user_role");
    if (!v || cJSON_IsNull(v))
        return NULL;
    for (size_t i = 0; cJSON_IsString(v) && i < sizeof roles / sizeof *roles; i++)
        if (strcmp(v->valuestring, roles[i]) == 0)
            return NULL;
    return "Invalid user_role: must be one of 'proxy_admin', 'proxy_admin_viewer', "
           "'internal_user', 'internal_user_viewer'";
}

/* A LiteLLM Member: {"role": "admin"|"user", "user_id", "user_email"}, one of the two ids set.
 * Returns the member as LiteLLM stores it (model_dump: role, user_id, user_email), or NULL with
 * *msg the 400 message ("" on no memory). */
static cJSON *member_parse(const cJSON *v, const char **msg)
{
    *msg = "";
    if (!cJSON_IsObject(v)) {
        *msg = "Invalid member: expected an object {\"role\", \"user_id\" or \"user_email\"}";
        return NULL;
    }
    const cJSON *role = cJSON_GetObjectItemCaseSensitive(v, "role");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(v, "user_id");
    const cJSON *email = cJSON_GetObjectItemCaseSensitive(v, "user_email");
    if (!cJSON_IsString(role) ||
        (strcmp(role->valuestring, "admin") != 0 && strcmp(role->valuestring, "user") != 0)) {
        *msg = "Invalid member: role must be 'admin' or 'user'";
        return NULL;
    }
    if ((id && !cJSON_IsNull(id) && !cJSON_IsString(id)) ||
        (email && !cJSON_IsNull(email) && !cJSON_IsString(email))) {
        *msg = "Invalid member: user_id and user_email must be strings";
        return NULL;
    }
    if (!cJSON_IsString(id) && !cJSON_IsString(email)) {
        *msg = "Either user id or user email must be provided";
        return NULL;
    }
    cJSON *m = cJSON_CreateObject();
    if (!m || !cJSON_AddStringToObject(m, "role", role->valuestring) ||
        !admin_json_put(m, "user_id", admin_json_text(cJSON_GetStringValue(id))) ||
        !admin_json_put(m, "user_email", admin_json_text(cJSON_GetStringValue(email)))) {
        cJSON_Delete(m);
        return NULL;
    }
    return m;
}

/* A member object or a list of them, as an array of parsed members. NULL with *msg set. */
static cJSON *members_parse(const cJSON *v, const char **msg)
{
    cJSON *list = cJSON_CreateArray();
    *msg = "";
    /* one member object stands for a list of one */
    for (const cJSON *it = cJSON_IsArray(v) ? v->child : v; list && it;
         it = it == v ? NULL : it->next)
        if (!admin_json_append(list, member_parse(it, msg))) {
            cJSON_Delete(list);
            return NULL;
        }
    return list;
}

static const char *str_member(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The strings of a row's list column (a JSON array), or an empty list. */
static int row_strings(const cJSON *row, const char *name, store_strlist_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, name), *it;
    cJSON_ArrayForEach(it, v)
    {
        if (cJSON_IsString(it) && store_strlist_push(out, it->valuestring) < 0)
            return -1;
    }
    return 0;
}

static cJSON *strlist_json(const store_strlist_t *l)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < l->n; i++)
        if (!cJSON_AddItemToArray(a, cJSON_CreateString(l->v[i]))) {
            cJSON_Delete(a);
            return NULL;
        }
    return a;
}

/* Removes the items of the array whose member `name` is value (equal), or is not (!equal: an item
 * without it counts as another value). */
static void remove_where(cJSON *array, const char *name, const char *value, bool equal)
{
    cJSON *it = array ? array->child : NULL;
    while (it) {
        cJSON *next = it->next;
        const char *v = str_member(it, name);
        if ((v && strcmp(v, value) == 0) == equal)
            cJSON_Delete(cJSON_DetachItemViaPointer(array, it));
        it = next;
    }
}

/* {"<id_name>": id, "<name>": row}: LiteLLM's answer around a team or user row. row is consumed;
 * NULL on no memory. */
static cJSON *answer_with_id(const char *id_name, const char *id, const char *name, cJSON *row)
{
    cJSON *o = cJSON_CreateObject();
    if (!o || !cJSON_AddStringToObject(o, id_name, id) || !cJSON_AddItemToObject(o, name, row)) {
        cJSON_Delete(o);
        cJSON_Delete(row);
        return NULL;
    }
    return o;
}

/* Reads the row of `table_name` whose col is id again into *row (after a write), when `stale`
 * first listing the keys of that team or user in res->invalidated. 0, or -1 with a database
 * error in res. */
static int reread(admin_t *a, const char *table_name, const char *col, const char *id, bool stale,
                  cJSON **row, admin_result_t *res)
{
    cJSON_Delete(*row);
    *row = NULL;
    if ((stale && admin_invalidate_keys(a, col, id, res) < 0) ||
        admin_row_by(a, table_name, col, id, row) != 0) {
        admin_set_db_error(res, a);
        return -1;
    }
    return 0;
}

/* DELETE FROM table_name WHERE col = id: the rows deleted, or -1 with a database error in res. */
static long delete_rows(admin_t *a, const char *table_name, const char *col, const char *id,
                        admin_result_t *res)
{
    buf_t sql = {0};
    buf_printf(&sql, "DELETE FROM \"%s\" WHERE \"%s\" = $1", table_name, col);
    long n = buf_cstr(&sql) ? sdb_exec(a->db, sql.p, (const char *[]){id}, 1) : -1;
    buf_free(&sql);
    if (n < 0)
        admin_set_db_error(res, a);
    return n;
}

/* The body's `name`, a non-empty string, or when it is absent a new uuid in gen. NULL with res
 * set. */
static const char *id_or_new(const cJSON *body, const char *name, char gen[37], admin_result_t *res)
{
    bool bad;
    const char *id = opt_string(body, name, &bad);
    if (bad) {
        admin_bad_request(res, name, "Invalid value for '%s': expected a string", name);
        return NULL;
    }
    if (id)
        return id;
    if (admin_uuid(gen) < 0) {
        admin_oom(res);
        return NULL;
    }
    return gen;
}

/* ---- team members ---------------------------------------------------------------------------- */

/* A copy of the team's members_with_roles as an array (a row LiteLLM never gave members holds
 * Prisma's default {}). NULL on no memory. */
static cJSON *team_members(const cJSON *team)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(team, "members_with_roles");
    return cJSON_IsArray(v) ? cJSON_Duplicate(v, true) : cJSON_CreateArray();
}

/* Writes members_with_roles and the members list (their user ids) of the team. 0, or -1 with
 * res set. */
static int team_write_members(admin_t *a, const char *team_id, const cJSON *members,
                              admin_result_t *res)
{
    store_strlist_t ids = {0};
    cJSON *set = cJSON_CreateObject();
    const cJSON *m;
    int rc = -1;
    cJSON_ArrayForEach(m, members)
    {
        const char *id = str_member(m, "user_id");
        if (id && admin_strlist_add(&ids, id) < 0)
            goto oom;
    }
    if (!set || !admin_json_put(set, "members_with_roles", cJSON_Duplicate(members, true)) ||
        !admin_json_put(set, "members", strlist_json(&ids)) ||
        !admin_add_time(set, "updated_at", admin_now_ms()))
        goto oom;
    rc = admin_json_write(a, ADMIN_TEAMS, set, "team_id", team_id, res) < 0 ? -1 : 0;
    goto out;
oom:
    admin_oom(res);
out:
    store_strlist_free(&ids);
    cJSON_Delete(set);
    return rc;
}

/* Adds (add) or removes team_id from the user's teams. 0, or -1 with res set. */
static int user_teams_change(admin_t *a, const cJSON *user, const char *team_id, bool add,
                             admin_result_t *res)
{
    store_strlist_t teams = {0}, kept = {0};
    cJSON *set = NULL;
    int rc = -1;
    bool has = false;
    if (row_strings(user, "teams", &teams) < 0)
        goto oom;
    for (size_t i = 0; i < teams.n; i++) {
        if (strcmp(teams.v[i], team_id) == 0)
            has = true;
        else if (store_strlist_push(&kept, teams.v[i]) < 0)
            goto oom;
    }
    if (has == add) {
        rc = 0;
        goto out;
    }
    if (add && store_strlist_push(&kept, team_id) < 0)
        goto oom;
    if (!(set = cJSON_CreateObject()) || !admin_json_put(set, "teams", strlist_json(&kept)) ||
        !admin_add_time(set, "updated_at", admin_now_ms()))
        goto oom;
    rc = admin_json_write(a, ADMIN_USERS, set, "user_id", str_member(user, "user_id"), res) < 0 ? -1
                                                                                                : 0;
    goto out;
oom:
    admin_oom(res);
out:
    cJSON_Delete(set);
    store_strlist_free(&teams);
    store_strlist_free(&kept);
    return rc;
}

/* Inserts a user row LiteLLM would create for a new member (get_new_internal_user_defaults).
 * 0, or -1 with res set. */
static int user_create_for_team(admin_t *a, const char *user_id, const char *email,
                                const char *team_id, admin_result_t *res)
{
    long long now = admin_now_ms();
    cJSON *u = cJSON_CreateObject();
    int rc = -1;
    if (!u || !admin_json_put(u, "teams", cJSON_CreateStringArray(&team_id, 1)) ||
        !cJSON_AddStringToObject(u, "user_id", user_id) ||
        !cJSON_AddStringToObject(u, "user_role", "internal_user") ||
        (email && !cJSON_AddStringToObject(u, "user_email", email)) ||
        !cJSON_AddArrayToObject(u, "models") || !admin_add_time(u, "created_at", now) ||
        !admin_add_time(u, "updated_at", now))
        admin_oom(res);
    else
        rc = admin_json_write(a, ADMIN_USERS, u, NULL, NULL, res) < 0 ? -1 : 0;
    cJSON_Delete(u);
    return rc;
}

/* Adds the member's budget row (null without one) to a membership row as litellm_budget_table,
 * as LiteLLM returns LiteLLM_TeamMembership. 0, or -1 with res set. */
static int membership_add_budget(admin_t *a, cJSON *m, admin_result_t *res)
{
    if (admin_json_put(m, "litellm_budget_table",
                       admin_budget_json(a, str_member(m, "budget_id"), res)))
        return 0;
    admin_oom_unless_set(res);
    return -1;
}

/* The memberships whose `col` is id, each with its budget. NULL with res set. */
static cJSON *memberships_of(admin_t *a, const char *col, const char *id, admin_result_t *res)
{
    cJSON *rows = admin_rows_json_of(a, table(ADMIN_MEMBERSHIPS), col, id, "\"user_id\"", res), *m;
    cJSON_ArrayForEach(m, rows)
    {
        if (membership_add_budget(a, m, res) < 0) {
            cJSON_Delete(rows);
            return NULL;
        }
    }
    return rows;
}

/* Creates a LiteLLM_BudgetTable row for a member's budget in the team (max_budget, a JSON
 * number); its id into id. 0, or -1 with res set. */
static int budget_create(admin_t *a, const cJSON *max_budget, char id[ADMIN_BUDGET_ID_MAX],
                         admin_result_t *res)
{
    admin_row_t b;
    admin_row_init(&b, table(ADMIN_BUDGETS));
    bool bad;
    char *text = sdb_value_text(store_schema_column(b.table, "max_budget"), max_budget, &bad);
    int rc = -1;
    if (!text || admin_row_set(&b, "max_budget", text) < 0)
        admin_oom(res);
    else
        rc = admin_budget_insert(a, &b, id, res);
    free(text);
    admin_row_free(&b);
    return rc;
}

/* The (user, team) membership row, created when absent; budget_id (may be NULL) replaces the
 * member's budget when given. 0, or -1 with res set. */
static int membership_upsert(admin_t *a, const char *user_id, const char *team_id,
                             const char *budget_id, admin_result_t *res)
{
    const char *params[] = {user_id, team_id, budget_id};
    if (sdb_exec(a->db,
                 "INSERT INTO \"" ADMIN_MEMBERSHIPS "\" (\"user_id\", \"team_id\", \"budget_id\") "
                 "VALUES ($1, $2, $3) ON CONFLICT (\"user_id\", \"team_id\") DO UPDATE SET "
                 "\"budget_id\" = COALESCE(excluded.\"budget_id\", \"" ADMIN_MEMBERSHIPS
                 "\".\"budget_id\")",
                 params, 3) < 0) {
        admin_set_db_error(res, a);
        return -1;
    }
    return 0;
}

/* The token hashes of the keys of user_id in team_id into res->invalidated. 0, or -1 with res
 * set. */
static int invalidate_member_keys(admin_t *a, const char *team_id, const char *user_id,
                                  admin_result_t *res)
{
    const char *params[] = {team_id, user_id};
    int rc = admin_tokens_add(a->db,
                              "SELECT \"token\" FROM \"" ADMIN_KEYS
                              "\" WHERE \"team_id\" = $1 AND \"user_id\" = $2",
                              params, 2, &res->invalidated);
    if (rc == -1)
        admin_set_db_error(res, a);
    else if (rc < 0)
        admin_oom(res);
    return rc < 0 ? -1 : 0;
}

/* A team or user going away (col team_id or user_id): the hashes of its keys into
 * res->invalidated, then its keys and membership rows deleted. 0, or -1 with res set. */
static int delete_keys_and_memberships(admin_t *a, const char *col, const char *id,
                                       admin_result_t *res)
{
    if (admin_invalidate_keys(a, col, id, res) < 0) {
        admin_set_db_error(res, a);
        return -1;
    }
    return delete_rows(a, ADMIN_KEYS, col, id, res) < 0 ||
                   delete_rows(a, ADMIN_MEMBERSHIPS, col, id, res) < 0
               ? -1
               : 0;
}

/* Adds one parsed member to the team (LiteLLM's add_new_member): the user is found by user_id
 * or user_email, or created; the team joins the user's teams; the membership row is upserted
 * (with budget_id when given); member's user_id is filled in. The user and membership rows are
 * appended to users / memberships when given. 0, or -1 with res set. */
static int member_add_one(admin_t *a, const char *team_id, cJSON *member, const char *budget_id,
                          cJSON *users, cJSON *memberships, admin_result_t *res)
{
    const char *id = str_member(member, "user_id"), *email = str_member(member, "user_email");
    char new_id[37];
    cJSON *user = NULL;
    int rc = -1;
    if (id) {
        int found = admin_row_by(a, ADMIN_USERS, "user_id", id, &user);
        if (found < 0)
            goto db_error;
        if (found == 1 && user_create_for_team(a, id, email, team_id, res) < 0)
            goto out;
        if (found == 0 && user_teams_change(a, user, team_id, true, res) < 0)
            goto out;
    } else {
        sdb_res_t *r = admin_rows_select(a->db, table(ADMIN_USERS), "user_email", email, NULL);
        if (!r)
            goto db_error;
        size_t n = sdb_res_rows(r);
        if (n == 1)
            user = sdb_row_json(table(ADMIN_USERS), r, 0);
        sdb_res_free(r);
        if (n > 1) {
            admin_bad_request(res, "member",
                              "Multiple users with this email found in db. Please use 'user_id' "
                              "instead.");
            goto out;
        }
        if (n == 1 && !user)
            goto oom;
        if (n == 0) {
            if (admin_uuid(new_id) < 0)
                goto oom;
            id = new_id;
            if (user_create_for_team(a, id, email, team_id, res) < 0)
                goto out;
        } else {
            id = str_member(user, "user_id");
            if (user_teams_change(a, user, team_id, true, res) < 0)
                goto out;
        }
        if (!admin_json_put(member, "user_id", cJSON_CreateString(id)))
            goto oom;
        id = str_member(member, "user_id");
    }
    if (membership_upsert(a, id, team_id, budget_id, res) < 0)
        goto out;
    cJSON_Delete(user);
    user = NULL;
    if (users) {
        if (admin_row_by(a, ADMIN_USERS, "user_id", id, &user) != 0)
            goto db_error;
        cJSON_DeleteItemFromObjectCaseSensitive(user, "password");
        if (!cJSON_AddItemToArray(users, user))
            goto oom;
        user = NULL;
    }
    if (memberships) {
        cJSON *row = NULL;
        sdb_res_t *r = admin_rows_select(a->db, table(ADMIN_MEMBERSHIPS), "user_id", id, NULL);
        for (size_t i = 0; r && i < sdb_res_rows(r) && !row; i++) {
            const char *tid = admin_res_text(r, i, "team_id");
            if (tid && strcmp(tid, team_id) == 0)
                row = sdb_row_json(table(ADMIN_MEMBERSHIPS), r, i);
        }
        sdb_res_free(r);
        if (!row)
            goto db_error;
        if (membership_add_budget(a, row, res) < 0) {
            cJSON_Delete(row);
            goto out;
        }
        if (!admin_json_append(memberships, row))
            goto oom;
    }
    rc = 0;
    goto out;
oom:
    admin_oom(res);
    goto out;
db_error:
    admin_set_db_error(res, a);
out:
    cJSON_Delete(user);
    return rc;
}

/* ---- teams ----------------------------------------------------------------------------------- */

/* NewTeamRequest / UpdateTeamRequest members that are TeamTable columns as they are. */
static const admin_field_t team_fields[] = {
    {"team_alias", ADMIN_F_STR},
    {"organization_id", ADMIN_F_STR},
    {"metadata", ADMIN_F_OBJ},
    {"tpm_limit", ADMIN_F_INT},
    {"rpm_limit", ADMIN_F_INT},
    {"max_parallel_requests", ADMIN_F_INT},
    {"max_budget", ADMIN_F_NUM},
    {"soft_budget", ADMIN_F_NUM},
    {"models", ADMIN_F_LIST},
    {"blocked", ADMIN_F_BOOL},
    {"team_member_permissions", ADMIN_F_LIST},
    {"access_group_ids", ADMIN_F_LIST},
    {"policies", ADMIN_F_LIST},
    {"default_team_member_models", ADMIN_F_LIST},
    {"router_settings", ADMIN_F_OBJ},
    {"model_max_budget", ADMIN_F_OBJ},
    {"budget_limits", ADMIN_F_JSON},
    {"allow_team_guardrail_config", ADMIN_F_BOOL},
};

/* Request fields LiteLLM keeps in the team's metadata (LiteLLM_ManagementEndpoint_MetadataFields
 * that teams take). */
static const admin_field_t team_metadata_fields[] = {
    {"tags", ADMIN_F_LIST},
    {"guardrails", ADMIN_F_LIST},
};

/* The body's team fields into out (budget_duration -> budget_reset_at; tags and guardrails into
 * metadata, on top of `metadata` (the team's current one, may be NULL)). NULL, or the 400
 * message with *param. */
static const char *team_take(const cJSON *body, const cJSON *metadata, cJSON *out,
                             const char **param)
{
    const char *msg =
        admin_take_fields(body, team_fields, sizeof team_fields / sizeof *team_fields, out, param);
    if (msg)
        return msg;
    *param = "budget_duration";
    if ((msg = admin_take_budget_duration(body, admin_now_ms(), out)))
        return msg;
    cJSON *extra = cJSON_CreateObject();
    if (!extra)
        return "";
    msg =
        admin_take_fields(body, team_metadata_fields,
                          sizeof team_metadata_fields / sizeof *team_metadata_fields, extra, param);
    if (!msg && extra->child) {
        const cJSON *given = cJSON_GetObjectItemCaseSensitive(out, "metadata");
        cJSON *md = cJSON_IsObject(given)      ? cJSON_Duplicate(given, true)
                    : cJSON_IsObject(metadata) ? cJSON_Duplicate(metadata, true)
                                               : cJSON_CreateObject();
        if (md)
            admin_json_merge(md, extra);
        if (!admin_json_put(out, "metadata", md))
            msg = "";
    }
    cJSON_Delete(extra);
    return msg;
}

static void team_not_found(admin_result_t *res, const char *team_id)
{
    admin_set_error(res, 404, "not_found_error", "team_id", TEAM_NOT_FOUND, team_id);
}

/* The body of a call on one team: a JSON object whose team_id (*team_id) is a non-empty string,
 * else a 400 "No team id passed in". NULL with res set. */
static cJSON *team_body(const admin_call_t *call, const char **team_id, admin_result_t *res)
{
    cJSON *body = admin_body_object(call, res);
    if (body &&
        !(*team_id = admin_body_string(body, "team_id", true, "No team id passed in", res))) {
        cJSON_Delete(body);
        body = NULL;
    }
    return body;
}

static void team_new(admin_t *a, const admin_call_t *call, admin_result_t *res)
{
    cJSON *row = NULL, *members = NULL, *stored = NULL;
    char gen_id[37];
    const char *msg, *param = NULL;
    bool in_tx = false;
    cJSON *body = admin_body_object(call, res);
    if (!body)
        return;
    const char *team_id = id_or_new(body, "team_id", gen_id, res);
    if (!team_id)
        goto out;
    if (!(row = cJSON_CreateObject()))
        goto oom;
    if ((msg = team_take(body, NULL, row, &param)))
        goto bad;
    const cJSON *mwr = cJSON_GetObjectItemCaseSensitive(body, "members_with_roles");
    param = "members_with_roles";
    if (mwr && !cJSON_IsNull(mwr) && !cJSON_IsArray(mwr)) {
        msg = "Invalid value for 'members_with_roles': expected a list of members";
        goto bad;
    }
    msg = "";
    members = cJSON_IsArray(mwr) ? members_parse(mwr, &msg) : cJSON_CreateArray();
    if (!members)
        goto bad;
    long long now = admin_now_ms();
    if (!cJSON_AddStringToObject(row, "team_id", team_id) ||
        !admin_add_time(row, "created_at", now) || !admin_add_time(row, "updated_at", now) ||
        !cJSON_AddArrayToObject(row, "members") ||
        !admin_json_put(row, "members_with_roles", cJSON_CreateArray()))
        goto oom;
    if (!cJSON_GetObjectItemCaseSensitive(row, "models") && !cJSON_AddArrayToObject(row, "models"))
        goto oom;

    if (admin_tx_begin(a, &in_tx, res) < 0)
        goto out;
    if (admin_row_absent(a, table(ADMIN_TEAMS), "team_id", team_id, res, 400, "bad_request_error",
                         "team_id", "Team id = %s already exists. Please use a different team id.",
                         team_id) < 0 ||
        admin_json_write(a, ADMIN_TEAMS, row, NULL, NULL, res) < 0)
        goto out;
    cJSON *m;
    cJSON_ArrayForEach(m, members)
    {
        if (member_add_one(a, team_id, m, NULL, NULL, NULL, res) < 0)
            goto out;
    }
    if (cJSON_GetArraySize(members) && team_write_members(a, team_id, members, res) < 0)
        goto out;
    /* keys may name the team before it exists: drop what the key cache knows about them */
    if (reread(a, ADMIN_TEAMS, "team_id", team_id, true, &stored, res) < 0 ||
        admin_tx_commit(a, &in_tx, res) < 0)
        goto out;
    admin_set_body(res, 200, stored);
    stored = NULL;
    goto out;
oom:
    msg = "";
bad:
    admin_check_error(res, param, msg);
out:
    admin_tx_end(a, in_tx, res);
    cJSON_Delete(stored);
    cJSON_Delete(members);
    cJSON_Delete(row);
    cJSON_Delete(body);
}

static void team_update(admin_t *a, const admin_call_t *call, admin_result_t *res)
{
    cJSON *team = NULL, *set = NULL;
    const char *msg, *param = NULL;
    bool in_tx = false;
    const char *team_id;
    cJSON *body = team_body(call, &team_id, res);
    if (!body)
        return;
    if (admin_tx_begin(a, &in_tx, res) < 0 ||
        admin_row_load(a, ADMIN_TEAMS, "team_id", team_id, &team, res, "team_id", TEAM_NOT_FOUND,
                       team_id) < 0)
        goto out;
    if (!(set = cJSON_CreateObject()))
        goto oom;
    if ((msg = team_take(body, cJSON_GetObjectItemCaseSensitive(team, "metadata"), set, &param)))
        goto bad;
    if (!admin_add_time(set, "updated_at", admin_now_ms()))
        goto oom;
    if (admin_json_write(a, ADMIN_TEAMS, set, "team_id", team_id, res) < 0 ||
        reread(a, ADMIN_TEAMS, "team_id", team_id, true, &team, res) < 0 ||
        admin_tx_commit(a, &in_tx, res) < 0)
        goto out;
    admin_set_body(res, 200, answer_with_id("team_id", team_id, "data", team));
    team = NULL;
    goto out;
oom:
    msg = "";
bad:
    admin_check_error(res, param, msg);
out:
    admin_tx_end(a, in_tx, res);
    cJSON_Delete(set);
    cJSON_Delete(team);
    cJSON_Delete(body);
}

static void team_set_blocked(admin_t *a, const admin_call_t *call, bool blocked,
                             admin_result_t *res)
{
    cJSON *team = NULL, *set = NULL;
    const char *team_id;
    cJSON *body = team_body(call, &team_id, res);
    if (!body)
        return;
    if (!(set = cJSON_CreateObject()) || !cJSON_AddBoolToObject(set, "blocked", blocked) ||
        !admin_add_time(set, "updated_at", admin_now_ms())) {
        admin_oom(res);
        goto out;
    }
    long n = admin_json_write(a, ADMIN_TEAMS, set, "team_id", team_id, res);
    if (n == 0)
        team_not_found(res, team_id);
    if (n <= 0 || reread(a, ADMIN_TEAMS, "team_id", team_id, true, &team, res) < 0)
        goto out;
    admin_set_body(res, 200, team);
    team = NULL;
out:
    cJSON_Delete(team);
    cJSON_Delete(set);
    cJSON_Delete(body);
}

static void team_block(admin_t *a, const admin_call_t *call, admin_result_t *res)
{
    team_set_blocked(a, call, true, res);
}

static void team_unblock(admin_t *a, const admin_call_t *call, admin_result_t *res)
{
    team_set_blocked(a, call, false, res);
}

/* Removes team_id from the teams of every user that lists it. 0, or -1 with res set. */
static int users_leave_team(admin_t *a, const char *team_id, admin_result_t *res)
{
    cJSON *users = NULL;
    int rc = -1;
    buf_t sql = {0};
    buf_append_cstr(&sql, "SELECT ");
    sdb_select_all(a->db, table(ADMIN_USERS), NULL, &sql);
    buf_append_cstr(&sql, " FROM \"" ADMIN_USERS "\" WHERE ");
    sdb_list_has(a->db, store_schema_column(table(ADMIN_USERS), "teams"), NULL, 1, &sql);
    sdb_res_t *r = admin_query_sql(a, &sql, NULL, (const char *[]){team_id}, 1, res);
    if (!r)
        goto out;
    users = admin_rows_json(table(ADMIN_USERS), r);
    sdb_res_free(r);
    if (!users) {
        admin_oom(res);
        goto out;
    }
    const cJSON *u;
    cJSON_ArrayForEach(u, users)
    {
        if (user_teams_change(a, u, team_id, false, res) < 0)
            goto out;
    }
    rc = 0;
out:
    cJSON_Delete(users);
    buf_free(&sql);
    return rc;
}

static void team_delete(admin_t *a, const admin_call_t *call, admin_result_t *res)
{
    store_strlist_t ids = {0};
    bool in_tx = false;
    cJSON *body = admin_body_object(call, res);
    if (!body)
        return;
    /* all or nothing: check every id first */
    if (admin_body_strings(body, "team_ids", &ids, "No team id passed in", NULL, res) < 0 ||
        admin_tx_begin(a, &in_tx, res) < 0 ||
        admin_rows_all_exist(a, table(ADMIN_TEAMS), "team_id", &ids, res, "team_id",
                             TEAM_NOT_FOUND) < 0)
        goto out;
    for (size_t i = 0; i < ids.n; i++)
        if (delete_keys_and_memberships(a, "team_id", ids.v[i], res) < 0 ||
            users_leave_team(a, ids.v[i], res) < 0 ||
            delete_rows(a, ADMIN_TEAMS, "team_id", ids.v[i], res) < 0)
            goto out;
    if (admin_tx_commit(a, &in_tx, res) < 0)
        goto out;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "deleted_teams", strlist_json(&ids));
    admin_set_body(res, 200, o);
out:
    admin_tx_end(a, in_tx, res);
    store_strlist_free(&ids);
    cJSON_Delete(body);
}

/* The keys whose `col` is id, full rows (LiteLLM_VerificationToken). NULL with res set. */
static cJSON *keys_of(admin_t *a, const char *col, const char *id, admin_result_t *res)
{
    return admin_rows_json_of(a, table(ADMIN_KEYS), col, id, "\"created_at\", \"token\"", res);
}

static void team_info(admin_t *a, const admin_call_t *call, admin_result_t *res)
{
    cJSON *team = NULL, *o = NULL;
    char *team_id = admin_query_get(call->query, call->query_len, "team_id");
    if (!team_id || !*team_id) {
        admin_bad_request(res, "team_id", "Malformed request. No team id passed in.");
        goto out;
    }
    if (admin_row_load(a, ADMIN_TEAMS, "team_id", team_id, &team, res, "team_id",
                       "Team not found, passed team id: %s.", team_id) < 0)
        goto out;
    o = answer_with_id("team_id", team_id, "team_info", team);
    if (!admin_json_put(o, "keys", keys_of(a, "team_id", team_id, res)) ||
        !admin_json_put(o, "team_memberships", memberships_of(a, "team_id", team_id, res))) {
        cJSON_Delete(o);
        o = NULL;
    }
    admin_answer(res, o);
out:
    free(team_id);
}

static bool has_member(const cJSON *team, const char *user_id)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(team, "members_with_roles"), *m;
    cJSON_ArrayForEach(m, v)
    {
        const char *id = str_member(m, "user_id");
        if (id && strcmp(id, user_id) == 0)
            return true;
    }
    return false;
}

/* TeamListResponseObject: the team row with its memberships (of user_id only, when given) and
 * its keys. NULL with res set. */
static cJSON *team_list_entry(admin_t *a, const cJSON *team, const char *user_id,
                              admin_result_t *res)
{
    const char *team_id = str_member(team, "team_id");
    cJSON *o = cJSON_Duplicate(team, true);
    cJSON *ms = o ? memberships_of(a, "team_id", team_id, res) : NULL;
    if (user_id)
        remove_where(ms, "user_id", user_id, false);
    if (!admin_json_put(o, "team_memberships", ms) ||
        !admin_json_put(o, "keys", keys_of(a, "team_id", team_id, res))) {
        admin_oom_unless_set(res);
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* Sorts an array of team objects by team_alias (null as ""), as LiteLLM sorts /team/list;
 * stable. */
static void sort_by_alias(cJSON *list)
{
    size_t n = (size_t)cJSON_GetArraySize(list);
    cJSON **items = calloc(n ? n : 1, sizeof *items);
    if (!items)
        return; /* left unsorted */
    for (size_t i = 0; i < n; i++)
        items[i] = cJSON_DetachItemFromArray(list, 0);
    for (size_t i = 1; i < n; i++) { /* insertion sort: stable, lists are short */
        cJSON *x = items[i];
        const char *ax = str_member(x, "team_alias");
        size_t j = i;
        while (j > 0) {
            const char *ay = str_member(items[j - 1], "team_alias");
            if (strcmp(ay ? ay : "", ax ? ax : "") <= 0)
                break;
            items[j] = items[j - 1];
            j--;
        }
        items[j] = x;
    }
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(list, items[i]);
    free(items);
}

static void team_list(admin_t *a, const admin_call_t *call, admin_result_t *res)
{
    cJSON *out = NULL;
    char *user_id = admin_query_get(call->query, call->query_len, "user_id");
    char *org = admin_query_get(call->query, call->query_len, "organization_id");
    cJSON *teams = admin_rows_json_of(a, table(ADMIN_TEAMS), NULL, NULL, "\"team_id\"", res);
    if (!teams)
        goto out;
    if (!(out = cJSON_CreateArray()))
        goto oom;
    const cJSON *t;
    cJSON_ArrayForEach(t, teams)
    {
        if (user_id && *user_id && !has_member(t, user_id))
            continue;
        const char *team_org = str_member(t, "organization_id");
        if (org) { /* "default_organization": the teams without one */
            bool none = strcmp(org, "default_organization") == 0;
            if (none ? team_org != NULL : !team_org || strcmp(org, team_org) != 0)
                continue;
        }
        cJSON *e = team_list_entry(a, t, user_id && *user_id ? user_id : NULL, res);
        if (!e)
            goto out;
        if (!admin_json_append(out, e))
            goto oom;
    }
    sort_by_alias(out);
    admin_set_body(res, 200, out);
    out = NULL;
    goto out;
oom:
    admin_oom(res);
out:
    cJSON_Delete(out);
    cJSON_Delete(teams);
    free(user_id);
    free(org);
}

static void team_member_add(admin_t *a, const admin_call_t *call, admin_result_t *res)
{
    cJSON *team = NULL, *add = NULL, *members = NULL, *users = NULL, *mss = NULL;
    store_strlist_t existing = {0};
    buf_t repr = {0};
    const char *msg;
    bool in_tx = false;
    char budget_id[ADMIN_BUDGET_ID_MAX];
    const char *team_id;
    cJSON *body = team_body(call, &team_id, res);
    if (!body)
        return;
    const cJSON *member = cJSON_GetObjectItemCaseSensitive(body, "member");
    if (!member || cJSON_IsNull(member)) {
        admin_bad_request(res, "member", "No member/members passed in");
        goto out;
    }
    if (!(add = members_parse(member, &msg))) {
        admin_check_error(res, "member", msg);
        goto out;
    }
    const cJSON *mb = cJSON_GetObjectItemCaseSensitive(body, "max_budget_in_team");
    if (mb && !cJSON_IsNull(mb) && !cJSON_IsNumber(mb)) {
        admin_bad_request(res, "max_budget_in_team",
                          "Invalid value for 'max_budget_in_team': expected a number");
        goto out;
    }
    if (admin_tx_begin(a, &in_tx, res) < 0 ||
        admin_row_load(a, ADMIN_TEAMS, "team_id", team_id, &team, res, "team_id",
                       "Team not found for team_id=%s", team_id) < 0)
        goto out;
    if (!(members = team_members(team)) || !(users = cJSON_CreateArray()) ||
        !(mss = cJSON_CreateArray()))
        goto oom;
    const cJSON *m;
    cJSON_ArrayForEach(m, members)
    {
        const char *id = str_member(m, "user_id");
        if (id && store_strlist_push(&existing, id) < 0)
            goto oom;
    }
    cJSON_ArrayForEach(m, add)
    {
        const char *id = str_member(m, "user_id");
        if (id && has_member(team, id)) {
            if (admin_py_repr_list(&existing, &repr) < 0 || !buf_cstr(&repr))
                goto oom;
            admin_bad_request(res, "member", "User=%s already in team. Existing members=%s", id,
                              repr.p);
            goto out;
        }
    }
    const char *budget = NULL;
    if (cJSON_IsNumber(mb)) {
        if (budget_create(a, mb, budget_id, res) < 0)
            goto out;
        budget = budget_id;
    }
    cJSON *nm = add->child;
    while (nm) {
        cJSON *next = nm->next;
        if (member_add_one(a, team_id, nm, budget, users, mss, res) < 0 ||
            invalidate_member_keys(a, team_id, str_member(nm, "user_id"), res) < 0)
            goto out;
        cJSON_AddItemToArray(members, cJSON_DetachItemViaPointer(add, nm));
        nm = next;
    }
    if (team_write_members(a, team_id, members, res) < 0 ||
        reread(a, ADMIN_TEAMS, "team_id", team_id, false, &team, res) < 0 ||
        admin_tx_commit(a, &in_tx, res) < 0)
        goto out;
    bool ok = admin_json_put(team, "updated_users", users);
    ok = admin_json_put(team, "updated_team_memberships", mss) && ok;
    users = mss = NULL;
    if (!ok)
        goto oom;
    admin_set_body(res, 200, team);
    team = NULL;
    goto out;
oom:
    admin_oom(res);
out:
    admin_tx_end(a, in_tx, res);
    buf_free(&repr);
    store_strlist_free(&existing);
    cJSON_Delete(mss);
    cJSON_Delete(users);
    cJSON_Delete(members);
    cJSON_Delete(add);
    cJSON_Delete(team);
    cJSON_Delete(body);
}

static void team_member_delete(admin_t *a, const admin_call_t *call, admin_result_t *res)
{
    cJSON *team = NULL, *members = NULL, *users = NULL;
    store_strlist_t gone = {0};
    bool in_tx = false, bad_id, bad_email;
    const char *team_id;
    cJSON *body = team_body(call, &team_id, res);
    if (!body)
        return;
    const char *user_id = opt_string(body, "user_id", &bad_id);
    const char *email = opt_string(body, "user_email", &bad_email);
    if (bad_id || bad_email || (!user_id && !email)) {
        admin_bad_request(res, user_id ? "user_email" : "user_id",
                          "Either user_id or user_email needs to be passed in");
        goto out;
    }
    if (admin_tx_begin(a, &in_tx, res) < 0 ||
        admin_row_load(a, ADMIN_TEAMS, "team_id", team_id, &team, res, "team_id",
                       "Team id=%s does not exist in db", team_id) < 0)
        goto out;
    if (!(members = team_members(team)))
        goto oom;
    bool found = false;
    cJSON *m = members->child;
    while (m) {
        cJSON *next = m->next;
        const char *mid = str_member(m, "user_id"), *mem = str_member(m, "user_email");
        if ((user_id && mid && strcmp(user_id, mid) == 0) ||
            (email && mem && strcmp(email, mem) == 0)) {
            found = true;
            if (mid && admin_strlist_add(&gone, mid) < 0)
                goto oom;
            cJSON_Delete(cJSON_DetachItemViaPointer(members, m));
        }
        m = next;
    }
    if (!found) {
        admin_bad_request(res, "user_id", "User not found in team");
        goto out;
    }
    if (team_write_members(a, team_id, members, res) < 0)
        goto out;
    /* the team leaves the user's teams: the user named, or every user with that email */
    users = admin_rows_json_of(a, table(ADMIN_USERS), user_id ? "user_id" : "user_email",
                               user_id ? user_id : email, NULL, res);
    if (!users)
        goto out;
    cJSON_ArrayForEach(m, users)
    {
        if (admin_strlist_add(&gone, str_member(m, "user_id")) < 0)
            goto oom;
        if (user_teams_change(a, m, team_id, false, res) < 0)
            goto out;
    }
    for (size_t i = 0; i < gone.n; i++) {
        const char *p[] = {gone.v[i], team_id};
        if (sdb_exec(a->db,
                     "DELETE FROM \"" ADMIN_MEMBERSHIPS
                     "\" WHERE \"user_id\" = $1 AND \"team_id\" = $2",
                     p, 2) < 0) {
            admin_set_db_error(res, a);
            goto out;
        }
        if (invalidate_member_keys(a, team_id, gone.v[i], res) < 0)
            goto out;
    }
    if (reread(a, ADMIN_TEAMS, "team_id", team_id, false, &team, res) < 0 ||
        admin_tx_commit(a, &in_tx, res) < 0)
        goto out;
    admin_set_body(res, 200, team);
    team = NULL;
    goto out;
oom:
    admin_oom(res);
out:
    admin_tx_end(a, in_tx, res);
    store_strlist_free(&gone);
    cJSON_Delete(users);
    cJSON_Delete(members);
    cJSON_Delete(team);
    cJSON_Delete(body);
}

/* ---- users ----------------------------------------------------------------------------------- */

/* NewUserRequest / UpdateUserRequest members that are UserTable columns as they are. */
static const admin_field_t user_fields[] = {
    {"user_alias", ADMIN_F_STR},      {"user_email", ADMIN_F_STR},
    {"user_role", ADMIN_F_STR},       {"team_id", ADMIN_F_STR},
    {"organization_id", ADMIN_F_STR}, {"sso_user_id", ADMIN_F_STR},
    {"max_budget", ADMIN_F_NUM},      {"spend", ADMIN_F_NUM},
    {"models", ADMIN_F_LIST},         {"tpm_limit", ADMIN_F_INT},
    {"rpm_limit", ADMIN_F_INT},       {"max_parallel_requests", ADMIN_F_INT},
    {"metadata", ADMIN_F_OBJ},        {"allowed_cache_controls", ADMIN_F_LIST},
    {"policies", ADMIN_F_LIST},       {"model_max_budget", ADMIN_F_OBJ},
};

/* /user/new's request members the key it creates takes (generate_key_helper_fn's key_data). */
static const char *const user_key_fields[] = {
    "key_alias",
    "duration",
    "models",
    "aliases",
    "config",
    "spend",
    "team_id",
    "metadata",
    "tpm_limit",
    "rpm_limit",
    "max_parallel_requests",
    "permissions",
    "allowed_cache_controls",
    "model_max_budget",
    "budget_id",
    "blocked",
    "allowed_routes",
};

/* NewUserResponse's members the user row supplies over the key's. */
static const char *const user_response_fields[] = {
    "user_id",    "max_budget",       "user_email", "user_role",  "teams",
    "user_alias", "model_max_budget", "created_at", "updated_at",
};

/* 1 when some user has the email (case-insensitively), 0 none, -1 on a database error. */
static int email_taken(admin_t *a, const char *email)
{
    sdb_res_t *r = sdb_query(a->db,
                             "SELECT 1 FROM \"" ADMIN_USERS "\" WHERE lower(\"user_email\") = "
                             "lower(CAST($1 AS TEXT)) LIMIT 1",
                             (const char *[]){email}, 1);
    if (!r)
        return -1;
    int n = sdb_res_rows(r) > 0;
    sdb_res_free(r);
    return n;
}

/* Joins the new user to one team of /user/new's `teams` (a team id, or {team_id,
 * max_budget_in_team, user_role}); teams that do not exist are skipped, as LiteLLM skips them.
 * 0, or -1 with res set. */
static int user_join_team(admin_t *a, const char *user_id, const char *email, const cJSON *t,
                          admin_result_t *res)
{
    const char *team_id = cJSON_IsString(t) ? t->valuestring : str_member(t, "team_id");
    const char *role = cJSON_IsObject(t) ? str_member(t, "user_role") : NULL;
    const cJSON *mb =
        cJSON_IsObject(t) ? cJSON_GetObjectItemCaseSensitive(t, "max_budget_in_team") : NULL;
    cJSON *team = NULL, *members = NULL, *m = NULL;
    char budget_id[ADMIN_BUDGET_ID_MAX];
    int rc = -1;
    if (!team_id) {
        admin_bad_request(res, "teams", "Invalid value for 'teams': expected team ids");
        return -1;
    }
    int found = admin_row_by(a, ADMIN_TEAMS, "team_id", team_id, &team);
    if (found < 0) {
        admin_set_db_error(res, a);
        return -1;
    }
    if (found == 1 || has_member(team, user_id)) {
        cJSON_Delete(team);
        return 0;
    }
    if (!(members = team_members(team)) || !(m = cJSON_CreateObject()) ||
        !cJSON_AddStringToObject(m, "role",
                                 role && strcmp(role, "admin") == 0 ? "admin" : "user") ||
        !cJSON_AddStringToObject(m, "user_id", user_id) ||
        !admin_json_put(m, "user_email", admin_json_text(email))) {
        admin_oom(res);
        goto out;
    }
    if (cJSON_IsNumber(mb) && budget_create(a, mb, budget_id, res) < 0)
        goto out;
    if (member_add_one(a, team_id, m, cJSON_IsNumber(mb) ? budget_id : NULL, NULL, NULL, res) < 0)
        goto out;
    cJSON_AddItemToArray(members, m);
    m = NULL;
    rc = team_write_members(a, team_id, members, res);
out:
    cJSON_Delete(m);
    cJSON_Delete(members);
    cJSON_Delete(team);
    return rc;
}

static void user_new(admin_t *a, const admin_call_t *call, admin_result_t *res)
{
    cJSON *row = NULL, *user = NULL, *key_req = NULL, *key = NULL, *o = NULL;
    char *plain = NULL, gen_id[37];
    const char *msg, *param = NULL;
    bool in_tx = false;
    cJSON *body = admin_body_object(call, res);
    if (!body)
        return;
    const char *user_id = id_or_new(body, "user_id", gen_id, res);
    if (!user_id)
        goto out;
    if ((msg = check_user_role(body))) {
        admin_bad_request(res, "user_role", "%s", msg);
        goto out;
    }
    const cJSON *teams = cJSON_GetObjectItemCaseSensitive(body, "teams");
    if (teams && !cJSON_IsNull(teams) && !cJSON_IsArray(teams)) {
        admin_bad_request(res, "teams", "Invalid value for 'teams': expected a list");
        goto out;
    }
    const cJSON *auto_key = cJSON_GetObjectItemCaseSensitive(body, "auto_create_key");
    if (auto_key && !cJSON_IsBool(auto_key)) {
        admin_bad_request(res, "auto_create_key",
                          "Invalid value for 'auto_create_key': expected a boolean");
        goto out;
    }
    long long now = admin_now_ms();
    if (!(row = cJSON_CreateObject()) || !cJSON_AddArrayToObject(row, "models"))
        goto oom;
    if ((msg = admin_take_fields(body, user_fields, sizeof user_fields / sizeof *user_fields, row,
                                 &param)))
        goto bad;
    param = "budget_duration";
    if ((msg = admin_take_budget_duration(body, now, row)))
        goto bad;
    if (!admin_json_put(row, "user_id", cJSON_CreateString(user_id)) ||
        !admin_json_put(row, "teams", cJSON_CreateArray()) ||
        !admin_add_time(row, "created_at", now) || !admin_add_time(row, "updated_at", now))
        goto oom;

    if (admin_tx_begin(a, &in_tx, res) < 0 ||
        admin_row_absent(a, table(ADMIN_USERS), "user_id", user_id, res, 409, "bad_request_error",
                         "user_id", "User with id %s already exists", user_id) < 0)
        goto out;
    const char *email = str_member(row, "user_email");
    int rc;
    if (email && (rc = email_taken(a, email)) != 0) {
        if (rc < 0)
            goto db_error;
        admin_set_error(res, 409, "bad_request_error", "user_email",
                        "User with email %s already exists", email);
        goto out;
    }
    if (admin_json_write(a, ADMIN_USERS, row, NULL, NULL, res) < 0)
        goto out;
    if (!cJSON_IsFalse(auto_key)) {
        if (!(key_req = cJSON_CreateObject()))
            goto oom;
        for (size_t i = 0; i < sizeof user_key_fields / sizeof *user_key_fields; i++) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, user_key_fields[i]);
            if (v && !cJSON_AddItemToObject(key_req, user_key_fields[i], cJSON_Duplicate(v, true)))
                goto oom;
        }
        if (!admin_json_put(key_req, "user_id", cJSON_CreateString(user_id)))
            goto oom;
        if (admin_key_create(a, key_req, &key, &plain, res) < 0)
            goto out;
    }
    /* the deprecated team_id joins that team; teams joins each listed team that exists */
    const char *team_id = str_member(row, "team_id");
    cJSON *one = team_id ? cJSON_CreateString(team_id) : NULL;
    if (team_id && (!one || user_join_team(a, user_id, email, one, res) < 0)) {
        cJSON_Delete(one);
        if (!res->body)
            goto oom;
        goto out;
    }
    cJSON_Delete(one);
    const cJSON *t, *join = team_id ? NULL : teams;
    cJSON_ArrayForEach(t, join)
    {
        if (user_join_team(a, user_id, email, t, res) < 0)
            goto out;
    }
    if (reread(a, ADMIN_USERS, "user_id", user_id, false, &user, res) < 0 ||
        admin_tx_commit(a, &in_tx, res) < 0)
        goto out;

    /* NewUserResponse: GenerateKeyResponse (token and token_id left out) and the user's fields */
    cJSON_DeleteItemFromObjectCaseSensitive(body, "password");
    o = key ? admin_key_response(key, plain, body) : cJSON_Duplicate(body, true);
    if (!o)
        goto oom;
    for (size_t i = 0; i < sizeof user_response_fields / sizeof *user_response_fields; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(user, user_response_fields[i]);
        if (!admin_json_put(o, user_response_fields[i], cJSON_Duplicate(v, true)))
            goto oom;
    }
    if (!admin_json_put(o, "token", cJSON_CreateNull()) ||
        !admin_json_put(o, "token_id", cJSON_CreateNull()) ||
        !admin_json_put(o, "key", cJSON_CreateString(plain ? plain : "")))
        goto oom;
    if (!key && (!admin_json_put(o, "key_name", cJSON_CreateNull()) ||
                 !admin_json_put(o, "expires", cJSON_CreateNull())))
        goto oom;
    if (key && store_strlist_push(&res->invalidated, str_member(key, "token")) < 0)
        goto oom;
    admin_set_body(res, 200, o);
    o = NULL;
    goto out;
oom:
    msg = "";
bad:
    admin_check_error(res, param, msg);
    goto out;
db_error:
    admin_set_db_error(res, a);
out:
    admin_tx_end(a, in_tx, res);
    free(plain);
    cJSON_Delete(o);
    cJSON_Delete(key);
    cJSON_Delete(key_req);
    cJSON_Delete(user);
    cJSON_Delete(row);
    cJSON_Delete(body);
}

/* LiteLLM's /user/update writes only "non-default" values: null, [] and {} are skipped, except
 * max_budget, whose null clears it. */
static void drop_defaults(cJSON *set)
{
    cJSON *it = set->child;
    while (it) {
        cJSON *next = it->next;
        bool empty =
            cJSON_IsNull(it) || ((cJSON_IsArray(it) || cJSON_IsObject(it)) && it->child == NULL);
        if (empty && strcmp(it->string, "max_budget") != 0 &&
            strcmp(it->string, "budget_reset_at") != 0)
            cJSON_Delete(cJSON_DetachItemViaPointer(set, it));
        it = next;
    }
}

static void user_update(admin_t *a, const admin_call_t *call, admin_result_t *res)
{
    cJSON *set = NULL, *user = NULL;
    char gen_id[37], *found_id = NULL;
    const char *msg, *param = NULL;
    bool in_tx = false, bad_id, bad_email;
    cJSON *body = admin_body_object(call, res);
    if (!body)
        return;
    const char *user_id = opt_string(body, "user_id", &bad_id);
    const char *email = opt_string(body, "user_email", &bad_email);
    if (bad_id || bad_email || (!user_id && !email)) {
        admin_bad_request(res, "user_id", "Either user_id or user_email must be provided");
        goto out;
    }
    if ((msg = check_user_role(body))) {
        admin_bad_request(res, "user_role", "%s", msg);
        goto out;
    }
    if (!(set = cJSON_CreateObject()))
        goto oom;
    if ((msg = admin_take_fields(body, user_fields, sizeof user_fields / sizeof *user_fields, set,
                                 &param)))
        goto bad;
    const cJSON *bd = cJSON_GetObjectItemCaseSensitive(body, "budget_duration");
    param = "budget_duration";
    if (bd && !cJSON_IsNull(bd) && (msg = admin_take_budget_duration(body, admin_now_ms(), set)))
        goto bad;
    drop_defaults(set);
    if (!admin_add_time(set, "updated_at", admin_now_ms()))
        goto oom;

    if (admin_tx_begin(a, &in_tx, res) < 0)
        goto out;
    if (!user_id) { /* by email: the first user with it, else a new user */
        sdb_res_t *r = admin_rows_select(a->db, table(ADMIN_USERS), "user_email", email,
                                         "\"created_at\", \"user_id\"");
        if (!r)
            goto db_error;
        const char *found = sdb_res_rows(r) ? admin_res_text(r, 0, "user_id") : NULL;
        found_id = found ? strdup(found) : NULL;
        sdb_res_free(r);
        if (found && !found_id)
            goto oom;
        if (!found && admin_uuid(gen_id) < 0)
            goto oom;
        user_id = found ? found_id : gen_id;
    }
    int rc = admin_row_exists(a->db, table(ADMIN_USERS), "user_id", user_id);
    if (rc < 0)
        goto db_error;
    /* LiteLLM upserts: an unknown user_id is created with the values given */
    long n = 0;
    if (rc == 1) {
        n = admin_json_write(a, ADMIN_USERS, set, "user_id", user_id, res);
    } else {
        if (!admin_json_put(set, "user_id", cJSON_CreateString(user_id)) ||
            (!cJSON_GetObjectItemCaseSensitive(set, "models") &&
             !cJSON_AddArrayToObject(set, "models")) ||
            !admin_add_time(set, "created_at", admin_now_ms()))
            goto oom;
        n = admin_json_write(a, ADMIN_USERS, set, NULL, NULL, res);
    }
    if (n < 0 || reread(a, ADMIN_USERS, "user_id", user_id, true, &user, res) < 0 ||
        admin_tx_commit(a, &in_tx, res) < 0)
        goto out;
    cJSON_DeleteItemFromObjectCaseSensitive(user, "password");
    admin_set_body(res, 200, answer_with_id("user_id", user_id, "data", user));
    user = NULL;
    goto out;
oom:
    msg = "";
bad:
    admin_check_error(res, param, msg);
    goto out;
db_error:
    admin_set_db_error(res, a);
out:
    admin_tx_end(a, in_tx, res);
    free(found_id);
    cJSON_Delete(user);
    cJSON_Delete(set);
    cJSON_Delete(body);
}

/* Takes the user out of the members of every team it is in. 0, or -1 with res set. */
static int user_leave_teams(admin_t *a, const cJSON *user, admin_result_t *res)
{
    const char *user_id = str_member(user, "user_id");
    store_strlist_t teams = {0};
    int rc = -1;
    if (row_strings(user, "teams", &teams) < 0)
        goto oom;
    sdb_res_t *r = admin_rows_select(a->db, table(ADMIN_MEMBERSHIPS), "user_id", user_id, NULL);
    if (!r) {
        admin_set_db_error(res, a);
        goto out;
    }
    for (size_t i = 0; i < sdb_res_rows(r); i++)
        if (admin_strlist_add(&teams, admin_res_text(r, i, "team_id")) < 0) {
            sdb_res_free(r);
            goto oom;
        }
    sdb_res_free(r);
    for (size_t i = 0; i < teams.n; i++) {
        cJSON *team = NULL, *members = NULL;
        int found = admin_row_by(a, ADMIN_TEAMS, "team_id", teams.v[i], &team);
        if (found < 0) {
            admin_set_db_error(res, a);
            goto out;
        }
        if (found == 1 || !has_member(team, user_id)) {
            cJSON_Delete(team);
            continue;
        }
        members = team_members(team);
        cJSON_Delete(team);
        if (!members)
            goto oom;
        remove_where(members, "user_id", user_id, true);
        int w = team_write_members(a, teams.v[i], members, res);
        cJSON_Delete(members);
        if (w < 0)
            goto out;
    }
    rc = 0;
    goto out;
oom:
    admin_oom(res);
out:
    store_strlist_free(&teams);
    return rc;
}

static void user_delete(admin_t *a, const admin_call_t *call, admin_result_t *res)
{
    store_strlist_t ids = {0};
    bool in_tx = false;
    long deleted = 0;
    cJSON *body = admin_body_object(call, res);
    if (!body)
        return;
    /* all or nothing: check every id first */
    if (admin_body_strings(body, "user_ids", &ids, "No user id passed in", NULL, res) < 0 ||
        admin_tx_begin(a, &in_tx, res) < 0 ||
        admin_rows_all_exist(a, table(ADMIN_USERS), "user_id", &ids, res, "user_id",
                             "User not found, passed user_id=%s") < 0)
        goto out;
    for (size_t i = 0; i < ids.n; i++) {
        cJSON *user = NULL;
        if (admin_row_by(a, ADMIN_USERS, "user_id", ids.v[i], &user) != 0) {
            admin_set_db_error(res, a);
            goto out;
        }
        int rc = user_leave_teams(a, user, res);
        cJSON_Delete(user);
        long n = 0;
        if (rc < 0 || delete_keys_and_memberships(a, "user_id", ids.v[i], res) < 0 ||
            (n = delete_rows(a, ADMIN_USERS, "user_id", ids.v[i], res)) < 0)
            goto out;
        deleted += n;
    }
    if (admin_tx_commit(a, &in_tx, res) < 0)
        goto out;
    /* LiteLLM answers with Prisma's delete_many count */
    admin_set_body(res, 200, cJSON_CreateNumber((double)deleted));
out:
    admin_tx_end(a, in_tx, res);
    store_strlist_free(&ids);
    cJSON_Delete(body);
}

static void user_info(admin_t *a, const admin_call_t *call, admin_result_t *res)
{
    cJSON *user = NULL, *o = NULL, *keys = NULL, *teams = NULL, *all = NULL;
    store_strlist_t team_ids = {0};
    char *user_id = admin_query_get(call->query, call->query_len, "user_id");
    if (!user_id || !*user_id) {
        admin_bad_request(res, "user_id", "Query parameter 'user_id' is required");
        goto out;
    }
    if (admin_row_load(a, ADMIN_USERS, "user_id", user_id, &user, res, "user_id",
                       "User %s not found", user_id) < 0)
        goto out;
    cJSON_DeleteItemFromObjectCaseSensitive(user, "password");
    /* teams: those whose members hold the user, then those of the user's teams column */
    if (!(all = admin_rows_json_of(a, table(ADMIN_TEAMS), NULL, NULL, "\"team_id\"", res)))
        goto out;
    if (row_strings(user, "teams", &team_ids) < 0 || !(teams = cJSON_CreateArray()))
        goto oom;
    const cJSON *t;
    cJSON_ArrayForEach(t, all)
    {
        const char *tid = str_member(t, "team_id");
        bool listed = false;
        for (size_t i = 0; tid && i < team_ids.n && !listed; i++)
            listed = strcmp(team_ids.v[i], tid) == 0;
        if (!listed && !has_member(t, user_id))
            continue;
        cJSON *e = team_list_entry(a, t, user_id, res);
        if (!e)
            goto out;
        if (!admin_json_append(teams, e))
            goto oom;
    }
    sort_by_alias(teams);
    if (!(keys = keys_of(a, "user_id", user_id, res)))
        goto out;
    /* LiteLLM's _process_keys_for_user_info: UI session keys left out, each key with its team's
     * alias (None when the team is gone, the string "None" for a key without a team) */
    remove_where(keys, "team_id", "litellm-dashboard", true);
    cJSON *k;
    cJSON_ArrayForEach(k, keys)
    {
        const char *tid = str_member(k, "team_id");
        cJSON *alias = tid ? cJSON_CreateNull() : cJSON_CreateString("None");
        for (const cJSON *x = all->child; tid && x; x = x->next) {
            const char *xid = str_member(x, "team_id");
            if (xid && strcmp(xid, tid) == 0) {
                cJSON_Delete(alias);
                alias = admin_json_text(str_member(x, "team_alias"));
            }
        }
        if (!admin_json_put(k, "team_alias", alias))
            goto oom;
        if (cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(k, "models")) &&
            !admin_json_put(k, "models", cJSON_CreateArray()))
            goto oom;
    }
    o = answer_with_id("user_id", user_id, "user_info", user);
    user = NULL;
    bool ok = admin_json_put(o, "keys", keys);
    keys = NULL;
    ok = admin_json_put(o, "teams", teams) && ok;
    teams = NULL;
    if (!ok)
        goto oom;
    admin_set_body(res, 200, o);
    o = NULL;
    goto out;
oom:
    admin_oom(res);
out:
    store_strlist_free(&team_ids);
    cJSON_Delete(all);
    cJSON_Delete(teams);
    cJSON_Delete(keys);
    cJSON_Delete(o);
    cJSON_Delete(user);
    free(user_id);
}

/* Appends "cond" joined with AND. */
static void where_and(buf_t *where, const char *cond)
{
    buf_append_cstr(where, where->n ? " AND " : " WHERE ");
    buf_append_cstr(where, cond);
}

static void user_list(admin_t *a, const admin_call_t *call, admin_result_t *res)
{
    static const char *const sortable[] = {"user_id", "user_email", "created_at",
                                           "spend",   "user_alias", "user_role"};
    enum { ROLE, IDS, EMAIL, TEAM, SSO, SORT_BY, SORT_ORDER, NQ };
    static const char *const names[NQ] = {"role",         "user_ids", "user_email", "team",
                                          "sso_user_ids", "sort_by",  "sort_order"};
    char *q[NQ];
    for (int i = 0; i < NQ; i++)
        q[i] = admin_query_get(call->query, call->query_len, names[i]);
    store_strlist_t params = {0}, idlist = {0}, ssolist = {0};
    buf_t where = {0}, sql = {0}, cond = {0};
    sdb_res_t *r = NULL;
    cJSON *users = NULL;
    long long page, size, total;
    if (admin_query_page(call, "page_size", USER_LIST_SIZE_DEFAULT, USER_LIST_SIZE_MAX, &page,
                         &size, res) < 0)
        goto out;
    const char *order_col = "created_at", *order_dir = "DESC";
    if (q[SORT_BY]) {
        order_col = NULL;
        for (size_t i = 0; i < sizeof sortable / sizeof *sortable; i++)
            if (strcmp(q[SORT_BY], sortable[i]) == 0)
                order_col = sortable[i];
        if (!order_col) {
            admin_bad_request(res, "sort_by",
                              "Invalid sort column. Must be one of: user_id, user_email, "
                              "created_at, spend, user_alias, user_role");
            goto out;
        }
        const char *so = q[SORT_ORDER] ? q[SORT_ORDER] : "asc";
        if (strcasecmp(so, "asc") != 0 && strcasecmp(so, "desc") != 0) {
            admin_bad_request(res, "sort_order", "Invalid sort order. Must be 'asc' or 'desc'");
            goto out;
        }
        order_dir = strcasecmp(so, "asc") == 0 ? "ASC" : "DESC";
    }
    /* filters, each one parameter more */
    if (q[ROLE]) {
        store_strlist_push(&params, q[ROLE]);
        buf_printf(&cond, "\"user_role\" = $%zu", params.n);
        where_and(&where, buf_cstr(&cond));
        cond.n = 0;
    }
    if (q[IDS]) {
        for (char *tok = strtok(q[IDS], ","); tok; tok = strtok(NULL, ",")) {
            while (*tok == ' ')
                tok++;
            size_t len = strlen(tok);
            while (len && tok[len - 1] == ' ')
                tok[--len] = '\0';
            if (len)
                store_strlist_push(&idlist, tok);
        }
        if (idlist.n == 1) { /* one id: a case-insensitive substring, as LiteLLM */
            store_strlist_push(&params, idlist.v[0]);
            buf_printf(&cond, "lower(\"user_id\") LIKE '%%' || lower(CAST($%zu AS TEXT)) || '%%'",
                       params.n);
        } else if (idlist.n > 1) {
            buf_append_cstr(&cond, "\"user_id\" IN (");
            for (size_t i = 0; i < idlist.n; i++) {
                store_strlist_push(&params, idlist.v[i]);
                buf_printf(&cond, "%s$%zu", i ? ", " : "", params.n);
            }
            buf_append_cstr(&cond, ")");
        }
        if (cond.n)
            where_and(&where, buf_cstr(&cond));
        cond.n = 0;
    }
    if (q[EMAIL]) {
        store_strlist_push(&params, q[EMAIL]);
        buf_printf(&cond, "lower(\"user_email\") LIKE '%%' || lower(CAST($%zu AS TEXT)) || '%%'",
                   params.n);
        where_and(&where, buf_cstr(&cond));
        cond.n = 0;
    }
    if (q[TEAM]) {
        store_strlist_push(&params, q[TEAM]);
        sdb_list_has(a->db, store_schema_column(table(ADMIN_USERS), "teams"), NULL, (int)params.n,
                     &cond);
        where_and(&where, buf_cstr(&cond));
        cond.n = 0;
    }
    if (q[SSO]) {
        for (char *tok = strtok(q[SSO], ","); tok; tok = strtok(NULL, ","))
            if (*tok)
                store_strlist_push(&ssolist, tok);
        buf_append_cstr(&cond, "\"sso_user_id\" IN (");
        for (size_t i = 0; i < ssolist.n; i++) {
            store_strlist_push(&params, ssolist.v[i]);
            buf_printf(&cond, "%s$%zu", i ? ", " : "", params.n);
        }
        buf_append_cstr(&cond, ssolist.n ? ")" : "NULL)");
        where_and(&where, buf_cstr(&cond));
        cond.n = 0;
    }
    size_t nfilter = params.n;
    char lim[24], off[24];
    snprintf(lim, sizeof lim, "%lld", size);
    snprintf(off, sizeof off, "%lld", (page - 1) * size);
    store_strlist_push(&params, lim);
    store_strlist_push(&params, off);
    buf_append_cstr(&sql, "SELECT ");
    sdb_select_all(a->db, table(ADMIN_USERS), "u.", &sql);
    buf_append_cstr(&sql, ", (SELECT COUNT(*) FROM \"" ADMIN_KEYS "\" k WHERE k.\"user_id\" = "
                          "u.\"user_id\" AND (k.\"team_id\" IS NULL OR k.\"team_id\" <> "
                          "'litellm-dashboard')) AS \"key_count\", COUNT(*) OVER () AS "
                          "\"total_count\" FROM \"" ADMIN_USERS "\" u");
    buf_printf(&sql, "%.*s ORDER BY u.\"%s\" %s, u.\"user_id\" LIMIT $%zu OFFSET $%zu",
               (int)where.n, where.p ? where.p : "", order_col, order_dir, nfilter + 1,
               nfilter + 2);
    if (!(r = admin_query_sql(a, &sql, NULL, (const char *const *)params.v, (int)params.n, res)))
        goto out;
    if (!(users = cJSON_CreateArray()))
        goto oom;
    int kc = sdb_res_col(r, "key_count");
    for (size_t i = 0; i < sdb_res_rows(r); i++) {
        cJSON *u = sdb_row_json(table(ADMIN_USERS), r, i);
        if (!admin_json_append(users, u))
            goto oom;
        cJSON_DeleteItemFromObjectCaseSensitive(u, "password");
        cJSON_AddNumberToObject(u, "key_count", (double)strtoll(sdb_res_get(r, i, kc), NULL, 10));
    }
    buf_free(&sql);
    buf_append_cstr(&sql, "SELECT COUNT(*) FROM \"" ADMIN_USERS "\" u");
    buf_printf(&sql, "%.*s", (int)where.n, where.p ? where.p : "");
    if (!buf_cstr(&sql))
        goto oom;
    if (admin_list_total(a->db, r, page, sql.p, (const char *const *)params.v, (int)nfilter,
                         &total) < 0)
        goto db_error;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "users", users);
    users = NULL;
    cJSON_AddNumberToObject(o, "total", (double)total);
    cJSON_AddNumberToObject(o, "page", (double)page);
    cJSON_AddNumberToObject(o, "page_size", (double)size);
    cJSON_AddNumberToObject(o, "total_pages", (double)((total + size - 1) / size));
    admin_set_body(res, 200, o);
    goto out;
oom:
    admin_oom(res);
    goto out;
db_error:
    admin_set_db_error(res, a);
out:
    cJSON_Delete(users);
    sdb_res_free(r);
    buf_free(&sql);
    buf_free(&where);
    buf_free(&cond);
    store_strlist_free(&params);
    store_strlist_free(&idlist);
    store_strlist_free(&ssolist);
    for (int i = 0; i < NQ; i++)
        free(q[i]);
}

const admin_route_t admin_team_routes[] = {
    {"POST", "/team/new", team_new},
    {"POST", "/team/update", team_update},
    {"POST", "/team/delete", team_delete},
    {"GET", "/team/info", team_info},
    {"GET", "/team/list", team_list},
    {"POST", "/team/member_add", team_member_add},
    {"POST", "/team/member_delete", team_member_delete},
    {"POST", "/team/block", team_block},
    {"POST", "/team/unblock", team_unblock},
    {"POST", "/user/new", user_new},
    {"POST", "/user/update", user_update},
    {"POST", "/user/delete", user_delete},
    {"GET", "/user/info", user_info},
    {"GET", "/user/list", user_list},
    {NULL, NULL, NULL},
};
