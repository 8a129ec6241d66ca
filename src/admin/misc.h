/* SPDX-License-Identifier: MIT
 * The handlers behind admin_misc_routes (org_api.c holds the table) and what they share:
 * customers (customers_api.c), organizations and budgets (org_api.c), spend reports
 * (spend_api.c), models (models_api.c). Private to src/admin; docs/admin.md, "Customers,
 * organizations, budgets, spend, models". */
#ifndef SLUICE_ADMIN_MISC_H
#define SLUICE_ADMIN_MISC_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "admin/admin.h"
#include "admin/rows.h"

#define ADMIN_HANDLER(name) void name(admin_t *a, const admin_call_t *call, admin_result_t *res)

ADMIN_HANDLER(admin_customer_new);
ADMIN_HANDLER(admin_customer_update);
ADMIN_HANDLER(admin_customer_delete);
ADMIN_HANDLER(admin_customer_info);
ADMIN_HANDLER(admin_customer_list);
ADMIN_HANDLER(admin_customer_block);
ADMIN_HANDLER(admin_customer_unblock);

ADMIN_HANDLER(admin_org_new);
ADMIN_HANDLER(admin_org_update);
ADMIN_HANDLER(admin_org_delete);
ADMIN_HANDLER(admin_org_info);
ADMIN_HANDLER(admin_org_info_post);
ADMIN_HANDLER(admin_org_list);

ADMIN_HANDLER(admin_budget_new);
ADMIN_HANDLER(admin_budget_update);
ADMIN_HANDLER(admin_budget_delete);
ADMIN_HANDLER(admin_budget_info);
ADMIN_HANDLER(admin_budget_list);

ADMIN_HANDLER(admin_spend_logs);
ADMIN_HANDLER(admin_global_spend);
ADMIN_HANDLER(admin_global_spend_report);

ADMIN_HANDLER(admin_model_new);
ADMIN_HANDLER(admin_model_delete);
ADMIN_HANDLER(admin_model_info);

/* ---- budgets, shared by customers, organizations, /budget and team members (org_api.c) -------
 */

extern const store_table_t *admin_budget_table(void);

/* Completes a new LiteLLM_BudgetTable row: budget_id (a new uuid unless set), created_at,
 * updated_at, created_by, updated_by. 0, or -1 on no memory / no randomness. */
int admin_budget_complete_new(admin_row_t *row);
/* Completes (admin_budget_complete_new) and inserts the new budget row b; its budget_id into id.
 * 0, or -1 with res set. */
#define ADMIN_BUDGET_ID_MAX 128
int admin_budget_insert(admin_t *a, admin_row_t *b, char id[ADMIN_BUDGET_ID_MAX],
                        admin_result_t *res);
/* admin_budget_insert, then row (a customer or organization) linked to the new budget by its
 * budget_id. 0, or -1 with res set. */
int admin_budget_link_new(admin_t *a, admin_row_t *b, admin_row_t *row, admin_result_t *res);
/* budget_reset_at for budget_duration text: standardized (LiteLLM's get_budget_reset_time: next
 * midnight, 1st of the month, ...) or now + the duration (duration_in_seconds). 0, or -1 when the
 * duration is not one LiteLLM accepts. */
int admin_budget_reset_text(const char *duration, bool standardized, char out[24]);
/* Sets budget_reset_at of a budget row that has a budget_duration and no reset time yet
 * (admin_budget_reset_text). 0; -1 when the duration is not one LiteLLM accepts; -2 on no
 * memory. */
int admin_budget_set_reset(admin_row_t *b, bool standardized);
/* A budget_id given to link a row to: true when it names a budget row (a foreign key in LiteLLM's
 * database), else false with res set (400 "Budget with id=X does not exist in db", or a database
 * error). */
bool admin_budget_link_ok(admin_t *a, const char *budget_id, admin_result_t *res);
/* The budget row budget_id as JSON (all columns), JSON null when there is none. NULL on a
 * database error (res set) or no memory. */
cJSON *admin_budget_json(admin_t *a, const char *budget_id, admin_result_t *res);
/* Adds the budget row budget_id (JSON null when there is none) to o as litellm_budget_table, the
 * way LiteLLM shows a row that links a budget. false with res set (database error, no memory). */
bool admin_budget_attach(admin_t *a, cJSON *o, const char *budget_id, admin_result_t *res);
/* Writes the cells of b, with updated_at and updated_by, to the budget row budget_id. 0, or -1
 * with res set. */
int admin_budget_write(admin_t *a, admin_row_t *b, const char *budget_id, admin_result_t *res);
/* Appends the token hashes of the keys linked to budget_id, directly or through their user's
 * membership in their team (the data plane reads those limits through the key). 0, or -1 on a
 * database error. */
int admin_keys_of_budget(admin_t *a, const char *budget_id, store_strlist_t *out);

/* ---- the at-rest cipher of litellm_params (models_api.c) ------------------------------------ */

/* LiteLLM's encrypt_value_helper: "v3:gcm:" + base64url(nonce || ciphertext || tag), key
 * HKDF-SHA256(secret). malloc'd, NULL on failure. */
char *admin_model_encrypt(const char *secret, const char *plain);
/* The plaintext of a "v3:gcm:" or "v2:gcm:" value (malloc'd), NULL when it is neither or does not
 * authenticate under secret. */
char *admin_model_decrypt(const char *secret, const char *value);

#endif
