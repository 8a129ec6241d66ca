/* SPDX-License-Identifier: MIT
 * admin: the /team/... and /user/... handlers (admin_team_routes) on a temporary SQLite file
 * (suite admin_teams) and on the real PostgreSQL of pg_harness (admin_teams_pg), the same bodies
 * on both: a team's life (new with members, info, update, block, list, delete), members added and
 * removed (user rows, teams lists, membership rows, member budgets), users (new with a key, update
 * as LiteLLM's upsert, info, list with filters, delete), errors, and the key hashes each change
 * hands to the key cache. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "admin/admin.h"
#include "admin_test_util.h"
#include "auth/keys.h"

static void setup_sqlite(void)
{
    admin_test_open_sqlite("/tmp/sluice-teams");
}

TestSuite(admin_teams, .init = setup_sqlite, .fini = admin_test_close_sqlite);
TestSuite(admin_teams_pg, .init = admin_test_open_pg, .fini = admin_test_close_pg, .timeout = 30);

/* The same body on SQLite (admin_teams) and PostgreSQL (admin_teams_pg). */
#define BOTH(name) ADMIN_TEST_BOTH(admin_teams, name)

/* Runs the route with `in` as the body (POST) or the query string (GET), checks the status and
 * returns the parsed body (caller frees); *inv gets the invalidated hashes when given, else an
 * error must invalidate nothing. */
static cJSON *call(const char *method, const char *path, const char *in, int status,
                   store_strlist_t *inv)
{
    return admin_test_call(method, path, in, status, inv, ADMIN_TEST_STALE_NONE_ON_ERROR);
}

/* call() for a request that must fail with LiteLLM's error of `type` whose message holds needle. */
static void expect_call_error(const char *method, const char *path, const char *in, int status,
                              const char *type, const char *needle)
{
    admin_test_call_error(method, path, in, status, ADMIN_TEST_STALE_NONE_ON_ERROR, type, needle);
}

/* call() for a request whose body is only checked for the status. */
static void expect_status(const char *method, const char *path, const char *in, int status)
{
    cJSON_Delete(call(method, path, in, status, NULL));
}

#define POST "POST"
#define GET "GET"

/* The strings of an array as "a,b,c". Static buffer. */
static const char *joined(const cJSON *arr)
{
    static char out[512];
    size_t n = 0;
    out[0] = '\0';
    const cJSON *it;
    cJSON_ArrayForEach(it, arr)
    {
        n += (size_t)snprintf(out + n, sizeof out - n, "%s%s", n ? "," : "",
                              cJSON_IsString(it) ? it->valuestring : "?");
    }
    return out;
}

/* The first cell of a query as text ("(null)" for NULL); static buffer. */
static const char *cell(const char *sql, const char *p1, const char *p2)
{
    return admin_test_cell(sql, p1, p2, true);
}

/* A list (TEXT[]) column of the row whose key_col is id, in the storage form (a JSON array). */
static const char *list_of(const char *table, const char *col, const char *key_col, const char *id)
{
    buf_t sql = {0};
    buf_append_cstr(&sql, "SELECT ");
    sdb_select_column(adm.db, store_schema_column(store_schema_table(table), col), NULL, &sql);
    buf_printf(&sql, " FROM \"%s\" WHERE \"%s\" = $1", table, key_col);
    cr_assert_not_null(buf_cstr(&sql));
    const char *v = cell(sql.p, id, NULL);
    buf_free(&sql);
    return v;
}

static const char *count(const char *table, const char *col, const char *id)
{
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM \"%s\" WHERE \"%s\" = $1", table, col);
    return cell(sql, id, NULL);
}

/* Generates a key with body; its token hash into out[65]. */
static void key_for(const char *body, char out[65])
{
    cJSON *r = call(POST, "/key/generate", body, 200, NULL);
    snprintf(out, 65, "%s", str_of(r, "token"));
    cJSON_Delete(r);
}

static void new_team(const char *body)
{
    expect_status(POST, "/team/new", body, 200);
}

/* ---- teams ----------------------------------------------------------------------------------- */

BOTH(team_new_with_members_and_info)
{
    cJSON *r = call(POST, "/team/new",
                    "{\"team_alias\":\"core\",\"max_budget\":20.5,\"budget_duration\":\"30d\","
                    "\"models\":[\"gpt-4o\"],\"tpm_limit\":1000,\"metadata\":{\"env\":\"prod\"},"
                    "\"tags\":[\"t1\"],\"members_with_roles\":[{\"role\":\"admin\",\"user_id\":"
                    "\"u1\"},{\"role\":\"user\",\"user_email\":\"e@x.io\"}]}",
                    200, NULL);
    const char *tid = str_of(r, "team_id");
    cr_expect_eq(strlen(tid), 36, "a uuid: %s", tid);
    cr_expect_str_eq(str_of(r, "team_alias"), "core");
    cr_expect_eq(num_of(r, "max_budget"), 20.5);
    cr_expect_eq(num_of(r, "tpm_limit"), 1000);
    cr_expect_eq(num_of(r, "spend"), 0);
    cr_expect_str_eq(str_of(r, "budget_duration"), "30d");
    cr_expect_not_null(strstr(str_of(r, "budget_reset_at"), "+00:00"));
    cr_expect_str_eq(joined(member(r, "models")), "gpt-4o");
    cr_expect(cJSON_IsFalse(member(r, "blocked")));
    const cJSON *md = member(r, "metadata");
    cr_expect_str_eq(str_of(md, "env"), "prod");
    cr_expect_str_eq(joined(member(md, "tags")), "t1");
    const cJSON *mwr = member(r, "members_with_roles");
    cr_assert_eq(cJSON_GetArraySize(mwr), 2);
    const cJSON *m0 = cJSON_GetArrayItem(mwr, 0), *m1 = cJSON_GetArrayItem(mwr, 1);
    cr_expect_str_eq(str_of(m0, "role"), "admin");
    cr_expect_str_eq(str_of(m0, "user_id"), "u1");
    cr_expect(is_null(m0, "user_email"));
    cr_expect_str_eq(str_of(m1, "user_email"), "e@x.io");
    char uid2[64];
    snprintf(uid2, sizeof uid2, "%s", str_of(m1, "user_id")); /* created for the email */
    cr_expect_eq(strlen(uid2), 36);
    char members[128];
    snprintf(members, sizeof members, "u1,%s", uid2);
    cr_expect_str_eq(joined(member(r, "members")), members);
    char team_id[64];
    snprintf(team_id, sizeof team_id, "%s", tid);
    cJSON_Delete(r);

    /* the users exist, in the team, each with a membership row */
    cr_expect_str_eq(
        cell("SELECT user_role FROM \"LiteLLM_UserTable\" WHERE user_id = $1", "u1", NULL),
        "internal_user");
    cr_expect_str_eq(
        cell("SELECT user_email FROM \"LiteLLM_UserTable\" WHERE user_id = $1", uid2, NULL),
        "e@x.io");
    char teams_json[96];
    snprintf(teams_json, sizeof teams_json, "[\"%s\"]", team_id);
    cr_expect_str_eq(list_of("LiteLLM_UserTable", "teams", "user_id", "u1"), teams_json);
    cr_expect_str_eq(count("LiteLLM_TeamMembership", "team_id", team_id), "2");

    /* info */
    char q[128];
    snprintf(q, sizeof q, "team_id=%s", team_id);
    r = call(GET, "/team/info", q, 200, NULL);
    cr_expect_str_eq(str_of(r, "team_id"), team_id);
    cr_expect_str_eq(str_of(member(r, "team_info"), "team_alias"), "core");
    cr_expect_eq(cJSON_GetArraySize(member(r, "keys")), 0);
    const cJSON *tm = member(r, "team_memberships");
    cr_expect_eq(cJSON_GetArraySize(tm), 2);
    cr_expect(cJSON_IsNull(member(cJSON_GetArrayItem(tm, 0), "litellm_budget_table")));
    cr_expect_eq(num_of(cJSON_GetArrayItem(tm, 0), "spend"), 0);
    cJSON_Delete(r);

    /* the same id again; bad input; unknown team */
    char body[160];
    snprintf(body, sizeof body, "{\"team_id\":\"%s\"}", team_id);
    expect_call_error(POST, "/team/new", body, 400, "bad_request_error",
                      "already exists. Please use a different team id.");
    expect_status(POST, "/team/new", "{\"max_budget\":\"lots\"}", 400);
    expect_status(POST, "/team/new", "{\"models\":\"gpt-4o\"}", 400);
    expect_status(POST, "/team/new", "{\"budget_duration\":\"monthly\"}", 400);
    expect_status(POST, "/team/new",
                  "{\"members_with_roles\":[{\"role\":\"owner\",\"user_id\":"
                  "\"x\"}]}",
                  400);
    expect_status(POST, "/team/new", "{\"members_with_roles\":[{\"role\":\"user\"}]}", 400);
    expect_call_error(GET, "/team/info", "team_id=nope", 404, "not_found_error",
                      "Team not found, passed team id: nope.");
    expect_status(GET, "/team/info", "", 400);
    /* nothing half-written by the failed calls */
    cr_expect_str_eq(cell("SELECT COUNT(*) FROM \"LiteLLM_TeamTable\"", NULL, NULL), "1");
}

BOTH(team_update_and_block_invalidate_team_keys)
{
    new_team("{\"team_id\":\"t1\",\"team_alias\":\"one\",\"metadata\":{\"a\":1}}");
    new_team("{\"team_id\":\"t2\"}");
    char k1[65], k2[65], other[65];
    key_for("{\"team_id\":\"t1\"}", k1);
    key_for("{\"team_id\":\"t1\",\"user_id\":\"u9\"}", k2);
    key_for("{\"team_id\":\"t2\"}", other);

    store_strlist_t inv;
    cJSON *r = call(POST, "/team/update",
                    "{\"team_id\":\"t1\",\"max_budget\":5,\"models\":[\"m1\",\"m2\"],\"blocked\":"
                    "false,\"guardrails\":[\"g\"]}",
                    200, &inv);
    cr_expect_str_eq(str_of(r, "team_id"), "t1");
    const cJSON *data = member(r, "data");
    cr_expect_eq(num_of(data, "max_budget"), 5);
    cr_expect_str_eq(joined(member(data, "models")), "m1,m2");
    cr_expect_str_eq(str_of(data, "team_alias"), "one"); /* untouched */
    /* guardrails joins the metadata the team had */
    cr_expect_eq(num_of(member(data, "metadata"), "a"), 1);
    cr_expect_str_eq(joined(member(member(data, "metadata"), "guardrails")), "g");
    cr_expect_eq(inv.n, 2);
    cr_expect(inv_has(&inv, k1) && inv_has(&inv, k2));
    cr_expect(!inv_has(&inv, other));
    store_strlist_free(&inv);
    cJSON_Delete(r);
    /* null clears */
    r = call(POST, "/team/update", "{\"team_id\":\"t1\",\"max_budget\":null}", 200, NULL);
    cr_expect(is_null(member(r, "data"), "max_budget"));
    cJSON_Delete(r);

    r = call(POST, "/team/block", "{\"team_id\":\"t1\"}", 200, &inv);
    cr_expect(cJSON_IsTrue(member(r, "blocked")));
    cr_expect_str_eq(str_of(r, "team_id"), "t1");
    cr_expect_eq(inv.n, 2);
    store_strlist_free(&inv);
    cJSON_Delete(r);
    cr_expect_str_eq(
        cell("SELECT blocked FROM \"LiteLLM_TeamTable\" WHERE team_id = 't1'", NULL, NULL), "1");
    r = call(POST, "/team/unblock", "{\"team_id\":\"t1\"}", 200, &inv);
    cr_expect(cJSON_IsFalse(member(r, "blocked")));
    cr_expect_eq(inv.n, 2);
    store_strlist_free(&inv);
    cJSON_Delete(r);

    expect_call_error(POST, "/team/update", "{\"team_id\":\"nope\",\"max_budget\":1}", 404,
                      "not_found_error", "Team not found, passed team_id=nope");
    expect_call_error(POST, "/team/update", "{\"max_budget\":1}", 400, "bad_request_error",
                      "No team id passed in");
    expect_status(POST, "/team/update", "{\"team_id\":\"t1\",\"tpm_limit\":1.5}", 400);
    expect_status(POST, "/team/block", "{\"team_id\":\"nope\"}", 404);
    expect_status(POST, "/team/unblock", "{}", 400);
    expect_status(POST, "/team/block", "not json", 400);
}

BOTH(member_add_and_delete)
{
    new_team("{\"team_id\":\"t1\",\"members_with_roles\":[{\"role\":\"admin\",\"user_id\":"
             "\"owner\"}]}");
    char k[65];
    key_for("{\"team_id\":\"t1\",\"user_id\":\"u2\"}", k);
    store_strlist_t inv;
    cJSON *r = call(POST, "/team/member_add",
                    "{\"team_id\":\"t1\",\"member\":{\"role\":\"user\",\"user_id\":\"u2\"},"
                    "\"max_budget_in_team\":5}",
                    200, &inv);
    cr_expect_str_eq(str_of(r, "team_id"), "t1");
    cr_expect_str_eq(joined(member(r, "members")), "owner,u2");
    cr_expect_eq(cJSON_GetArraySize(member(r, "members_with_roles")), 2);
    const cJSON *users = member(r, "updated_users");
    cr_assert_eq(cJSON_GetArraySize(users), 1);
    cr_expect_str_eq(str_of(cJSON_GetArrayItem(users, 0), "user_id"), "u2");
    cr_expect_str_eq(joined(member(cJSON_GetArrayItem(users, 0), "teams")), "t1");
    const cJSON *tms = member(r, "updated_team_memberships");
    cr_assert_eq(cJSON_GetArraySize(tms), 1);
    const cJSON *tm = cJSON_GetArrayItem(tms, 0);
    cr_expect_str_eq(str_of(tm, "user_id"), "u2");
    cr_expect_str_eq(str_of(tm, "team_id"), "t1");
    cr_expect_eq(num_of(member(tm, "litellm_budget_table"), "max_budget"), 5);
    cr_expect_str_eq(str_of(tm, "budget_id"),
                     str_of(member(tm, "litellm_budget_table"), "budget_id"));
    /* the member's keys in the team see the new budget */
    cr_expect_eq(inv.n, 1);
    cr_expect(inv_has(&inv, k));
    store_strlist_free(&inv);
    cJSON_Delete(r);

    /* already a member */
    expect_call_error(POST, "/team/member_add",
                      "{\"team_id\":\"t1\",\"member\":{\"role\":\"user\",\"user_id\":\"u2\"}}", 400,
                      "bad_request_error",
                      "User=u2 already in team. Existing members=['owner', 'u2']");
    /* a list, one by email: an existing user found by email joins */
    expect_status(POST, "/user/new",
                  "{\"user_id\":\"u3\",\"user_email\":\"u3@x.io\",\"auto_create_key\":false}", 200);
    r = call(POST, "/team/member_add",
             "{\"team_id\":\"t1\",\"member\":[{\"role\":\"user\",\"user_email\":\"u3@x.io\"},"
             "{\"role\":\"admin\",\"user_id\":\"u4\"}]}",
             200, NULL);
    cr_expect_str_eq(joined(member(r, "members")), "owner,u2,u3,u4");
    cr_expect_eq(cJSON_GetArraySize(member(r, "updated_users")), 2);
    cr_expect(cJSON_IsNull(member(cJSON_GetArrayItem(member(r, "updated_team_memberships"), 0),
                                  "litellm_budget_table")));
    cJSON_Delete(r);
    cr_expect_str_eq(list_of("LiteLLM_UserTable", "teams", "user_id", "u3"), "[\"t1\"]");
    cr_expect_str_eq(count("LiteLLM_TeamMembership", "team_id", "t1"), "4");

    /* delete by id */
    r = call(POST, "/team/member_delete", "{\"team_id\":\"t1\",\"user_id\":\"u2\"}", 200, &inv);
    cr_expect_str_eq(joined(member(r, "members")), "owner,u3,u4");
    cr_expect(inv_has(&inv, k));
    store_strlist_free(&inv);
    cJSON_Delete(r);
    cr_expect_str_eq(list_of("LiteLLM_UserTable", "teams", "user_id", "u2"), "[]");
    cr_expect_str_eq(count("LiteLLM_TeamMembership", "user_id", "u2"), "0");
    /* delete by email */
    r = call(POST, "/team/member_delete", "{\"team_id\":\"t1\",\"user_email\":\"u3@x.io\"}", 200,
             NULL);
    cr_expect_str_eq(joined(member(r, "members")), "owner,u4");
    cJSON_Delete(r);
    cr_expect_str_eq(count("LiteLLM_TeamMembership", "user_id", "u3"), "0");

    expect_call_error(POST, "/team/member_delete", "{\"team_id\":\"t1\",\"user_id\":\"u2\"}", 400,
                      "bad_request_error", "User not found in team");
    expect_call_error(POST, "/team/member_delete", "{\"team_id\":\"zz\",\"user_id\":\"u2\"}", 404,
                      "not_found_error", "Team id=zz does not exist in db");
    expect_status(POST, "/team/member_delete", "{\"team_id\":\"t1\"}", 400);
    r = call(POST, "/team/member_add",
             "{\"team_id\":\"zz\",\"member\":{\"role\":\"user\","
             "\"user_id\":\"u5\"}}",
             404, NULL);
    expect_error(r, "not_found_error", "Team not found for team_id=zz");
    cJSON_Delete(r);
    expect_call_error(POST, "/team/member_add", "{\"team_id\":\"t1\"}", 400, "bad_request_error",
                      "No member/members passed in");
    expect_status(POST, "/team/member_add", "{\"member\":{\"role\":\"user\",\"user_id\":\"x\"}}",
                  400);
    expect_status(POST, "/team/member_add",
                  "{\"team_id\":\"t1\",\"member\":{\"role\":\"user\",\"user_id\":\"x\"},"
                  "\"max_budget_in_team\":\"5\"}",
                  400);
    cr_expect_str_eq(count("LiteLLM_UserTable", "user_id", "u5"), "0");
}

BOTH(team_delete_takes_keys_and_memberships)
{
    new_team("{\"team_id\":\"t1\",\"members_with_roles\":[{\"role\":\"user\",\"user_id\":"
             "\"u1\"}]}");
    new_team("{\"team_id\":\"t2\",\"members_with_roles\":[{\"role\":\"user\",\"user_id\":"
             "\"u1\"}]}");
    char k1[65], k2[65];
    key_for("{\"team_id\":\"t1\",\"user_id\":\"u1\"}", k1);
    key_for("{\"team_id\":\"t2\"}", k2);

    /* one unknown id: nothing is deleted */
    cJSON *r = call(POST, "/team/delete", "{\"team_ids\":[\"t1\",\"nope\"]}", 404, NULL);
    expect_error(r, "not_found_error", "Team not found, passed team_id=nope");
    cJSON_Delete(r);
    cr_expect_str_eq(count("LiteLLM_TeamTable", "team_id", "t1"), "1");
    cr_expect_str_eq(count("LiteLLM_VerificationToken", "team_id", "t1"), "1");

    store_strlist_t inv;
    r = call(POST, "/team/delete", "{\"team_ids\":[\"t1\"]}", 200, &inv);
    cr_expect_str_eq(joined(member(r, "deleted_teams")), "t1");
    cr_expect_eq(inv.n, 1);
    cr_expect(inv_has(&inv, k1));
    store_strlist_free(&inv);
    cJSON_Delete(r);
    cr_expect_str_eq(count("LiteLLM_TeamTable", "team_id", "t1"), "0");
    cr_expect_str_eq(count("LiteLLM_VerificationToken", "team_id", "t1"), "0");
    cr_expect_str_eq(count("LiteLLM_TeamMembership", "team_id", "t1"), "0");
    cr_expect_str_eq(count("LiteLLM_VerificationToken", "team_id", "t2"), "1");
    cr_expect_str_eq(list_of("LiteLLM_UserTable", "teams", "user_id", "u1"), "[\"t2\"]");
    expect_call_error(POST, "/team/delete", "{}", 400, "bad_request_error", "No team id passed in");
    expect_status(POST, "/team/delete", "{\"team_ids\":[1]}", 400);
}

BOTH(team_list_sorted_and_filtered)
{
    new_team("{\"team_id\":\"tb\",\"team_alias\":\"b\",\"organization_id\":\"o1\","
             "\"members_with_roles\":[{\"role\":\"user\",\"user_id\":\"u1\"}]}");
    new_team("{\"team_id\":\"ta\",\"team_alias\":\"a\",\"members_with_roles\":[{\"role\":"
             "\"admin\",\"user_id\":\"u1\"},{\"role\":\"user\",\"user_id\":\"u2\"}]}");
    new_team("{\"team_id\":\"tn\"}");
    char k[65];
    key_for("{\"team_id\":\"ta\"}", k);
    cJSON *r = call(GET, "/team/list", "", 200, NULL);
    cr_assert(cJSON_IsArray(r));
    cr_assert_eq(cJSON_GetArraySize(r), 3);
    cr_expect_str_eq(str_of(cJSON_GetArrayItem(r, 0), "team_id"), "tn"); /* no alias sorts first */
    cr_expect_str_eq(str_of(cJSON_GetArrayItem(r, 1), "team_id"), "ta");
    cr_expect_str_eq(str_of(cJSON_GetArrayItem(r, 2), "team_id"), "tb");
    const cJSON *ta = cJSON_GetArrayItem(r, 1);
    cr_expect_eq(cJSON_GetArraySize(member(ta, "keys")), 1);
    cr_expect_str_eq(str_of(cJSON_GetArrayItem(member(ta, "keys"), 0), "token"), k);
    cr_expect_eq(cJSON_GetArraySize(member(ta, "team_memberships")), 2);
    cJSON_Delete(r);

    r = call(GET, "/team/list", "user_id=u1", 200, NULL);
    cr_assert_eq(cJSON_GetArraySize(r), 2);
    cr_expect_str_eq(str_of(cJSON_GetArrayItem(r, 0), "team_id"), "ta");
    /* only the asking user's memberships */
    cr_expect_eq(cJSON_GetArraySize(member(cJSON_GetArrayItem(r, 0), "team_memberships")), 1);
    cJSON_Delete(r);
    r = call(GET, "/team/list", "organization_id=o1", 200, NULL);
    cr_expect_eq(cJSON_GetArraySize(r), 1);
    cJSON_Delete(r);
    r = call(GET, "/team/list", "organization_id=default_organization", 200, NULL);
    cr_expect_eq(cJSON_GetArraySize(r), 2);
    cJSON_Delete(r);
}

/* ---- users ----------------------------------------------------------------------------------- */

BOTH(user_new_with_key_and_teams)
{
    new_team("{\"team_id\":\"t1\"}");
    store_strlist_t inv;
    cJSON *r = call(POST, "/user/new",
                    "{\"user_id\":\"alice\",\"user_email\":\"Alice@x.io\",\"user_role\":"
                    "\"internal_user\",\"max_budget\":10,\"models\":[\"gpt-4o\"],\"teams\":[\"t1\","
                    "\"no-such-team\"],\"key_alias\":\"alice-key\",\"duration\":\"1d\","
                    "\"password\":\"hunter22\"}",
                    200, &inv);
    const char *key = str_of(r, "key");
    cr_expect_eq(strncmp(key, "sk-", 3), 0);
    cr_expect_eq(strlen(key), AUTH_KEY_LEN);
    auth_hash_t h;
    char hex[65];
    cr_assert_eq(auth_key_hash(str_cstr(key), &h), 0);
    auth_hash_hex(&h, hex);
    cr_expect_eq(inv.n, 1);
    cr_expect(inv_has(&inv, hex));
    store_strlist_free(&inv);
    cr_expect_str_eq(str_of(r, "user_id"), "alice");
    cr_expect_str_eq(str_of(r, "user_email"), "Alice@x.io");
    cr_expect_str_eq(str_of(r, "user_role"), "internal_user");
    cr_expect_eq(num_of(r, "max_budget"), 10);
    cr_expect_str_eq(joined(member(r, "teams")), "t1");
    cr_expect_str_eq(str_of(r, "key_alias"), "alice-key");
    cr_expect_not_null(strstr(str_of(r, "key_name"), "sk-..."));
    cr_expect(cJSON_IsString(member(r, "expires")));
    cr_expect(is_null(r, "token") && is_null(r, "token_id"));
    cr_expect_null(cJSON_GetObjectItemCaseSensitive(r, "password"));
    cJSON_Delete(r);

    /* the key belongs to the user, with the user's models; the user budget is not the key's */
    cr_expect_str_eq(
        cell("SELECT user_id FROM \"LiteLLM_VerificationToken\" WHERE token = $1", hex, NULL),
        "alice");
    cr_expect_str_eq(list_of("LiteLLM_VerificationToken", "models", "token", hex), "[\"gpt-4o\"]");
    cr_expect_str_eq(
        cell("SELECT max_budget FROM \"LiteLLM_VerificationToken\" WHERE token = $1", hex, NULL),
        "(null)");
    cr_expect_str_eq(
        cell("SELECT password FROM \"LiteLLM_UserTable\" WHERE user_id = 'alice'", NULL, NULL),
        "(null)"); /* not stored */
    cr_expect_str_eq(count("LiteLLM_TeamMembership", "user_id", "alice"), "1");
    r = call(GET, "/team/info", "team_id=t1", 200, NULL);
    cr_expect_str_eq(joined(member(member(r, "team_info"), "members")), "alice");
    cJSON_Delete(r);

    /* duplicates: id, and email whatever its case */
    expect_call_error(POST, "/user/new", "{\"user_id\":\"alice\"}", 409, "bad_request_error",
                      "User with id alice already exists");
    expect_call_error(POST, "/user/new", "{\"user_email\":\"alice@X.IO\"}", 409,
                      "bad_request_error", "User with email alice@X.IO already exists");
    /* no key; a generated id */
    r = call(POST, "/user/new", "{\"auto_create_key\":false}", 200, &inv);
    cr_expect_str_eq(str_of(r, "key"), "");
    cr_expect_eq(strlen(str_of(r, "user_id")), 36);
    cr_expect_eq(inv.n, 0);
    store_strlist_free(&inv);
    cJSON_Delete(r);
    cr_expect_str_eq(cell("SELECT COUNT(*) FROM \"LiteLLM_VerificationToken\"", NULL, NULL), "1");
    expect_status(POST, "/user/new", "{\"user_role\":\"king\"}", 400);
    expect_status(POST, "/user/new", "{\"max_budget\":\"x\"}", 400);
    expect_status(POST, "/user/new", "{\"user_id\":5}", 400);
    /* a key alias in use fails the whole call: no user left behind */
    expect_status(POST, "/user/new", "{\"user_id\":\"bob\",\"key_alias\":\"alice-key\"}", 400);
    cr_expect_str_eq(count("LiteLLM_UserTable", "user_id", "bob"), "0");
}

BOTH(user_update_upserts_and_invalidates)
{
    expect_status(POST, "/user/new",
                  "{\"user_id\":\"u1\",\"user_email\":\"u1@x.io\","
                  "\"max_budget\":3,\"models\":[\"a\"]}",
                  200);
    char k2[65];
    key_for("{\"user_id\":\"u1\"}", k2);
    store_strlist_t inv;
    cJSON *r = call(POST, "/user/update",
                    "{\"user_id\":\"u1\",\"max_budget\":7,\"models\":[],\"user_alias\":null,"
                    "\"budget_duration\":\"1d\"}",
                    200, &inv);
    cr_expect_str_eq(str_of(r, "user_id"), "u1");
    const cJSON *d = member(r, "data");
    cr_expect_eq(num_of(d, "max_budget"), 7);
    cr_expect_str_eq(joined(member(d, "models")), "a"); /* [] is "not given" to LiteLLM */
    cr_expect_str_eq(str_of(d, "budget_duration"), "1d");
    cr_expect(cJSON_IsString(member(d, "budget_reset_at")));
    cr_expect_null(cJSON_GetObjectItemCaseSensitive(d, "password"));
    cr_expect_eq(inv.n, 2); /* the key /user/new made and k2 */
    cr_expect(inv_has(&inv, k2));
    store_strlist_free(&inv);
    cJSON_Delete(r);
    /* max_budget null clears it */
    r = call(POST, "/user/update", "{\"user_id\":\"u1\",\"max_budget\":null}", 200, NULL);
    cr_expect(is_null(member(r, "data"), "max_budget"));
    cJSON_Delete(r);
    /* by email */
    r = call(POST, "/user/update", "{\"user_email\":\"u1@x.io\",\"user_alias\":\"one\"}", 200,
             NULL);
    cr_expect_str_eq(str_of(r, "user_id"), "u1");
    cr_expect_str_eq(str_of(member(r, "data"), "user_alias"), "one");
    cJSON_Delete(r);
    /* LiteLLM's upsert: an unknown id is created */
    r = call(POST, "/user/update", "{\"user_id\":\"fresh\",\"max_budget\":1}", 200, NULL);
    cr_expect_eq(num_of(member(r, "data"), "max_budget"), 1);
    cJSON_Delete(r);
    cr_expect_str_eq(count("LiteLLM_UserTable", "user_id", "fresh"), "1");
    expect_call_error(POST, "/user/update", "{\"max_budget\":1}", 400, "bad_request_error",
                      "Either user_id or user_email must be provided");
    expect_status(POST, "/user/update", "{\"user_id\":\"u1\",\"tpm_limit\":\"x\"}", 400);
}

BOTH(user_info_and_list)
{
    new_team("{\"team_id\":\"t1\",\"team_alias\":\"first\"}");
    expect_status(POST, "/user/new",
                  "{\"user_id\":\"u1\",\"user_email\":\"one@x.io\",\"user_role\":\"proxy_admin\","
                  "\"teams\":[\"t1\"],\"team_id\":null}",
                  200);
    expect_status(POST, "/user/new",
                  "{\"user_id\":\"u2\",\"user_email\":\"two@y.io\","
                  "\"auto_create_key\":false}",
                  200);
    expect_status(POST, "/user/new", "{\"user_id\":\"u3\",\"auto_create_key\":false}", 200);
    char kt[65], kg[65];
    key_for("{\"user_id\":\"u1\",\"team_id\":\"t1\"}", kt);
    key_for("{\"user_id\":\"u1\",\"team_id\":\"gone\"}", kg);

    cJSON *r = call(GET, "/user/info", "user_id=u1", 200, NULL);
    cr_expect_str_eq(str_of(r, "user_id"), "u1");
    cr_expect_str_eq(str_of(member(r, "user_info"), "user_email"), "one@x.io");
    cr_expect_null(cJSON_GetObjectItemCaseSensitive(member(r, "user_info"), "password"));
    const cJSON *keys = member(r, "keys");
    cr_assert_eq(cJSON_GetArraySize(keys), 3);
    int seen = 0;
    const cJSON *k;
    cJSON_ArrayForEach(k, keys)
    {
        const char *tok = str_of(k, "token");
        if (strcmp(tok, kt) == 0) {
            seen |= 1;
            cr_expect_str_eq(str_of(k, "team_alias"), "first");
        } else if (strcmp(tok, kg) == 0) {
            seen |= 2;
            cr_expect(is_null(k, "team_alias"));
        } else {
            seen |= 4;
            cr_expect_str_eq(str_of(k, "team_alias"), "None"); /* LiteLLM's quirk */
        }
    }
    cr_expect_eq(seen, 7);
    const cJSON *teams = member(r, "teams");
    cr_assert_eq(cJSON_GetArraySize(teams), 1);
    cr_expect_str_eq(str_of(cJSON_GetArrayItem(teams, 0), "team_id"), "t1");
    cJSON_Delete(r);
    expect_call_error(GET, "/user/info", "user_id=nope", 404, "not_found_error",
                      "User nope not found");
    expect_status(GET, "/user/info", "", 400);

    r = call(GET, "/user/list", "", 200, NULL);
    cr_expect_eq(num_of(r, "total"), 3);
    cr_expect_eq(num_of(r, "page"), 1);
    cr_expect_eq(num_of(r, "page_size"), 25);
    cr_expect_eq(num_of(r, "total_pages"), 1);
    const cJSON *users = member(r, "users");
    cr_assert_eq(cJSON_GetArraySize(users), 3);
    cJSON_ArrayForEach(k, users)
    {
        if (strcmp(str_of(k, "user_id"), "u1") == 0)
            cr_expect_eq(num_of(k, "key_count"), 3);
        cr_expect_null(cJSON_GetObjectItemCaseSensitive(k, "password"));
    }
    cJSON_Delete(r);
    r = call(GET, "/user/list", "sort_by=user_id&sort_order=desc&page_size=2&page=2", 200, NULL);
    cr_expect_eq(num_of(r, "total"), 3);
    cr_expect_eq(num_of(r, "total_pages"), 2);
    cr_assert_eq(cJSON_GetArraySize(member(r, "users")), 1);
    cr_expect_str_eq(str_of(cJSON_GetArrayItem(member(r, "users"), 0), "user_id"), "u1");
    cJSON_Delete(r);
    r = call(GET, "/user/list", "page=5", 200, NULL);
    cr_expect_eq(num_of(r, "total"), 3);
    cr_expect_eq(cJSON_GetArraySize(member(r, "users")), 0);
    cJSON_Delete(r);
    static const struct {
        const char *q, *ids;
    } filters[] = {
        {"role=proxy_admin", "u1"},     {"user_email=X.IO", "u1"},  {"team=t1", "u1"},
        {"user_ids=u2,u3", "u2,u3"},    {"user_ids=U", "u1,u2,u3"}, {"user_email=nobody", ""},
        {"user_ids=u1&role=admin", ""},
    };
    for (size_t i = 0; i < sizeof filters / sizeof filters[0]; i++) {
        char q[96];
        snprintf(q, sizeof q, "%s&sort_by=user_id", filters[i].q);
        r = call(GET, "/user/list", q, 200, NULL);
        char ids[64] = "";
        size_t n = 0;
        cJSON_ArrayForEach(k, member(r, "users"))
        {
            n += (size_t)snprintf(ids + n, sizeof ids - n, "%s%s", n ? "," : "",
                                  str_of(k, "user_id"));
        }
        cr_expect_str_eq(ids, filters[i].ids, "%s", filters[i].q);
        cJSON_Delete(r);
    }
    expect_call_error(GET, "/user/list", "sort_by=password", 400, "bad_request_error",
                      "Invalid sort column");
    expect_status(GET, "/user/list", "sort_by=spend&sort_order=up", 400);
    expect_status(GET, "/user/list", "page_size=101", 400);
    expect_status(GET, "/user/list", "page=0", 400);
}

BOTH(user_delete_takes_keys_and_leaves_teams)
{
    new_team("{\"team_id\":\"t1\",\"members_with_roles\":[{\"role\":\"user\",\"user_id\":"
             "\"u1\"},{\"role\":\"user\",\"user_id\":\"u2\"}]}");
    char k1[65], k2[65];
    key_for("{\"user_id\":\"u1\"}", k1);
    key_for("{\"user_id\":\"u2\"}", k2);
    /* one unknown: nothing deleted */
    cJSON *r = call(POST, "/user/delete", "{\"user_ids\":[\"u1\",\"nope\"]}", 404, NULL);
    expect_error(r, "not_found_error", "User not found, passed user_id=nope");
    cJSON_Delete(r);
    cr_expect_str_eq(count("LiteLLM_UserTable", "user_id", "u1"), "1");

    store_strlist_t inv;
    r = call(POST, "/user/delete", "{\"user_ids\":[\"u1\"]}", 200, &inv);
    cr_expect(cJSON_IsNumber(r));
    cr_expect_eq(r->valuedouble, 1);
    cr_expect_eq(inv.n, 1);
    cr_expect(inv_has(&inv, k1));
    store_strlist_free(&inv);
    cJSON_Delete(r);
    cr_expect_str_eq(count("LiteLLM_UserTable", "user_id", "u1"), "0");
    cr_expect_str_eq(count("LiteLLM_VerificationToken", "user_id", "u1"), "0");
    cr_expect_str_eq(count("LiteLLM_VerificationToken", "user_id", "u2"), "1");
    cr_expect_str_eq(count("LiteLLM_TeamMembership", "user_id", "u1"), "0");
    r = call(GET, "/team/info", "team_id=t1", 200, NULL);
    cr_expect_str_eq(joined(member(member(r, "team_info"), "members")), "u2");
    cr_expect_eq(cJSON_GetArraySize(member(member(r, "team_info"), "members_with_roles")), 1);
    cJSON_Delete(r);
    expect_call_error(POST, "/user/delete", "{\"users\":[\"u2\"]}", 400, "bad_request_error",
                      "No user id passed in");
}

Test(admin_teams, routes_found_through_the_shared_lookup)
{
    bool known = false;
    const admin_route_t *r = admin_route_find("POST", 4, "/team/new", 9, &known);
    cr_assert_not_null(r);
    cr_expect(known);
    cr_expect_null(admin_route_find("GET", 3, "/team/new", 9, &known));
    cr_expect(known, "the path exists with another method: 405");
    cr_expect_not_null(admin_route_find("GET", 3, "/user/list", 10, &known));
    cr_expect_not_null(admin_route_find("POST", 4, "/key/generate", 13, &known));
    cr_expect_null(admin_route_find("GET", 3, "/team/nope", 10, &known));
    cr_expect(!known);
}
