/* SPDX-License-Identifier: MIT
 * One batch's spend increments, whatever the back end: collected per new spend log, then sorted
 * and summed so each key, key x model, user, team, org and daily row gets one statement per
 * batch. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "store/internal.h"

static const char *or_empty(const char *s)
{
    return s ? s : "";
}

static int cmp_str(const char *a, const char *b)
{
    if (!a || !b)
        return (a != NULL) - (b != NULL);
    return strcmp(a, b);
}

static int cmp_spend(const void *pa, const void *pb)
{
    const store_spend_item_t *a = pa, *b = pb;
    if (a->entity != b->entity)
        return (int)a->entity - (int)b->entity;
    int c = cmp_str(a->id, b->id);
    return c ? c : cmp_str(a->id2, b->id2);
}

static int cmp_daily(const void *pa, const void *pb)
{
    const store_daily_item_t *a = pa, *b = pb;
    if (a->table != b->table)
        return (int)a->table - (int)b->table;
    const char *ka[] = {a->d.entity_id,
                        a->d.date,
                        or_empty(a->d.api_key),
                        or_empty(a->d.model),
                        or_empty(a->d.custom_llm_provider),
                        or_empty(a->d.mcp_namespaced_tool_name),
                        or_empty(a->d.endpoint)};
    const char *kb[] = {b->d.entity_id,
                        b->d.date,
                        or_empty(b->d.api_key),
                        or_empty(b->d.model),
                        or_empty(b->d.custom_llm_provider),
                        or_empty(b->d.mcp_namespaced_tool_name),
                        or_empty(b->d.endpoint)};
    for (size_t i = 0; i < COUNTOF(ka); i++) {
        int c = cmp_str(ka[i], kb[i]);
        if (c)
            return c;
    }
    return 0;
}

static int push_spend(store_batch_acc_t *a, store_entity_t e, const char *id, const char *id2,
                      double amount)
{
    if (!id || !*id)
        return 0;
    if (a->nspend == a->capspend) {
        size_t cap = a->capspend ? a->capspend * 2 : 64;
        store_spend_item_t *p = realloc(a->spend, cap * sizeof *p);
        if (!p)
            return -1;
        a->spend = p;
        a->capspend = cap;
    }
    a->spend[a->nspend++] = (store_spend_item_t){e, id, id2, amount};
    return 0;
}

static int push_daily(store_batch_acc_t *a, store_daily_t t, const char *entity, const char *date,
                      const store_spend_log_t *l)
{
    if (a->ndaily == a->capdaily) {
        size_t cap = a->capdaily ? a->capdaily * 2 : 64;
        store_daily_item_t *p = realloc(a->daily, cap * sizeof *p);
        if (!p)
            return -1;
        a->daily = p;
        a->capdaily = cap;
    }
    bool failed = l->status && strcmp(l->status, "failure") == 0;
    a->daily[a->ndaily++] = (store_daily_item_t){
        t,
        {
            .entity_id = entity,
            .date = date,
            .api_key = l->api_key,
            .model = l->model,
            .model_group = l->model_group,
            .custom_llm_provider = l->custom_llm_provider,
            .mcp_namespaced_tool_name = l->mcp_namespaced_tool_name,
            .endpoint = l->endpoint,
            .prompt_tokens = l->prompt_tokens,
            .completion_tokens = l->completion_tokens,
            .cache_read_input_tokens = l->cache_read_input_tokens,
            .cache_creation_input_tokens = l->cache_creation_input_tokens,
            .spend = l->spend,
            .api_requests = 1,
            .successful_requests = failed ? 0 : 1,
            .failed_requests = failed ? 1 : 0,
        },
    };
    return 0;
}

int store_batch_collect(store_batch_acc_t *a, const store_spend_log_t *l, const char *date,
                        cJSON **tags_doc)
{
    double x = l->spend;
    if (push_spend(a, STORE_ENTITY_KEY, l->api_key, NULL, x) < 0 ||
        push_spend(a, STORE_ENTITY_USER, l->user, NULL, x) < 0 ||
        push_spend(a, STORE_ENTITY_TEAM, l->team_id, NULL, x) < 0 ||
        (l->user && *l->user && l->team_id && *l->team_id &&
         push_spend(a, STORE_ENTITY_TEAM_MEMBER, l->user, l->team_id, x) < 0) ||
        push_spend(a, STORE_ENTITY_ORG, l->organization_id, NULL, x) < 0 ||
        push_spend(a, STORE_ENTITY_END_USER, l->end_user, NULL, x) < 0)
        return -1;
    /* model_spend under model_group, the name the client asked for, which model_max_budget is
     * keyed by (LiteLLM's limiter charges model_group too); zero would only add an entry */
    if (x != 0 && l->model_group && *l->model_group &&
        push_spend(a, STORE_ENTITY_KEY_MODEL, l->api_key, l->model_group, x) < 0)
        return -1;
    const char *user = l->user && *l->user ? l->user : NULL;
    if (push_daily(a, STORE_DAILY_USER, user, date, l) < 0)
        return -1;
    struct {
        store_daily_t t;
        const char *id;
    } opt[] = {{STORE_DAILY_TEAM, l->team_id},
               {STORE_DAILY_ORG, l->organization_id},
               {STORE_DAILY_END_USER, l->end_user},
               {STORE_DAILY_AGENT, l->agent_id}};
    for (size_t i = 0; i < COUNTOF(opt); i++)
        if (opt[i].id && *opt[i].id && push_daily(a, opt[i].t, opt[i].id, date, l) < 0)
            return -1;
    if (l->request_tags && (*tags_doc = cJSON_Parse(l->request_tags))) {
        const cJSON *tag;
        cJSON_ArrayForEach(tag, *tags_doc)
        {
            if (cJSON_IsString(tag) && *tag->valuestring &&
                push_daily(a, STORE_DAILY_TAG, tag->valuestring, date, l) < 0)
                return -1;
        }
    }
    return 0;
}

static void sum_daily(store_daily_delta_t *sum, const store_daily_delta_t *d)
{
    sum->prompt_tokens += d->prompt_tokens;
    sum->completion_tokens += d->completion_tokens;
    sum->cache_read_input_tokens += d->cache_read_input_tokens;
    sum->cache_creation_input_tokens += d->cache_creation_input_tokens;
    sum->spend += d->spend;
    sum->api_requests += d->api_requests;
    sum->successful_requests += d->successful_requests;
    sum->failed_requests += d->failed_requests;
}

void store_batch_merge(store_batch_acc_t *a)
{
    if (a->nspend)
        qsort(a->spend, a->nspend, sizeof *a->spend, cmp_spend);
    size_t k = 0;
    for (size_t i = 0; i < a->nspend;) {
        store_spend_item_t sum = a->spend[i++];
        while (i < a->nspend && cmp_spend(&sum, &a->spend[i]) == 0)
            sum.amount += a->spend[i++].amount;
        a->spend[k++] = sum;
    }
    a->nspend = k;
    if (a->ndaily)
        qsort(a->daily, a->ndaily, sizeof *a->daily, cmp_daily);
    k = 0;
    for (size_t i = 0; i < a->ndaily;) {
        store_daily_item_t sum = a->daily[i++];
        for (; i < a->ndaily && cmp_daily(&sum, &a->daily[i]) == 0; i++)
            sum_daily(&sum.d, &a->daily[i].d);
        a->daily[k++] = sum;
    }
    a->ndaily = k;
}

void store_batch_acc_free(store_batch_acc_t *a)
{
    free(a->spend);
    free(a->daily);
    *a = (store_batch_acc_t){0};
}
