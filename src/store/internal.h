/* SPDX-License-Identifier: MIT
 * Private to src/store: the field tables that map the C records onto columns (one place that the
 * SQLite back end, the spool codec and, later, the PostgreSQL back end all read), and small
 * helpers for times, ids, JSON lists and checksums. */
#ifndef SLUICE_STORE_INTERNAL_H
#define SLUICE_STORE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "store/store.h"

typedef enum {
    STORE_F_STR,      /* char * / const char *: TEXT */
    STORE_F_JSON,     /* char *: JSON text */
    STORE_F_LIST,     /* store_strlist_t: TEXT[] (a JSON array in SQLite) */
    STORE_F_F64,      /* double, never NULL */
    STORE_F_F64_OPT,  /* double, NAN is NULL */
    STORE_F_I64,      /* long long, never NULL */
    STORE_F_I64_OPT,  /* long long, STORE_INT_NULL is NULL */
    STORE_F_TIME,     /* long long ms, STORE_TIME_NULL is NULL */
    STORE_F_BOOL,     /* bool */
    STORE_F_BOOL_OPT, /* int, -1 is NULL */
} store_field_kind_t;

#define STORE_FIELD_NO_COLUMN 1u /* not a column of the table: spool / aggregates only */
#define STORE_FIELD_NO_UPDATE 2u /* never rewritten by an update */

typedef struct {
    const char *name; /* column name, and the key in the spool's JSON */
    store_field_kind_t kind;
    size_t offset;
    unsigned flags;
} store_field_t;

extern const store_field_t store_spend_log_fields[];
extern const size_t store_spend_log_num_fields;
extern const store_field_t store_key_fields[];
extern const size_t store_key_num_fields;
extern const store_field_t store_team_fields[]; /* the first is the primary key */
extern const size_t store_team_num_fields;
extern const store_field_t store_user_fields[]; /* the first is the primary key */
extern const size_t store_user_num_fields;
extern const store_field_t store_limits_fields[]; /* store_limits_t */
extern const size_t store_limits_num_fields;
/* SELECT of the member limits of the key whose token is the one parameter; `param` is "?1" or
 * "$1". 0, or -1 on no memory. */
int store_member_limits_sql(buf_t *b, const char *param);
extern const store_field_t store_end_user_fields[]; /* store_end_user_t */
extern const size_t store_end_user_num_fields;
/* SELECT of the end user whose user_id is the one parameter, with its budget row's limits. */
int store_end_user_sql(buf_t *b, const char *param, const char *default_param);

/* Frees the strings and lists a record's fields own (not the record itself). */
void store_fields_free(const store_field_t *f, size_t nf, void *rec);

/* Formats ms since the epoch as "YYYY-MM-DD HH:MM:SS.mmm" (UTC) into out[24]. */
void store_time_format(long long ms, char out[24]);
/* Parses "YYYY-MM-DD[ T]HH:MM:SS[.fff][Z]"; STORE_TIME_NULL when it is not one. */
long long store_time_parse(const char *s);
/* "YYYY-MM-DD" (UTC) of ms into out[11]. */
void store_date_format(long long ms, char out[11]);
/* The current time in ms since the epoch. */
long long store_now_ms(void);
/* A random (v4) UUID, as Prisma's uuid() makes, into out[37]. */
void store_uuid(char out[37]);

/* Appends the list as a JSON array of strings. 0, or -1. */
int store_strlist_to_json(const store_strlist_t *l, buf_t *out);
/* Replaces *l with the strings of a JSON array (other elements are skipped). 0, -1 not an array
 * or no memory. */
int store_strlist_from_json(store_strlist_t *l, const char *json);

/* CRC-32 (IEEE 802.3, as zlib's crc32). */
uint32_t store_crc32(uint32_t crc, const void *p, size_t n);

/* Appends fmt with %s (text), %q (a quoted identifier) and %u (a size_t) substituted: the one
 * appender of both back ends' statement builders. 0, or -1 (also for an unknown %x). */
int store_sqlf(buf_t *b, const char *fmt, ...);

/* ---- schema creation, shared by the store's back ends and sdb ---- */

struct sqlite3;

/* Opens the SQLite file as store_sqlite_open does: WAL, synchronous FULL, busy timeout, every
 * absent table created in one transaction. 0 (*out set), or -1 with the message in err. */
int store_sqlite_connect(const char *path, struct sqlite3 **out, char *err, size_t errsz);

/* PostgreSQL: the query listing the relations of current_schema() (one column: the name). */
extern const char store_pg_relations_sql[];
/* The DDL to run given which tables exist (exists indexed as store_schema_tables): nothing when
 * LiteLLM_VerificationToken exists (a database LiteLLM or an earlier run set up belongs to its
 * migrations), else the absent tables'. Returns how many tables, or -1 on no memory. */
/* Taken right after BEGIN by whoever creates tables, so two sluices (or the store thread and the
 * control plane) starting at once do not both run CREATE TABLE IF NOT EXISTS, which can fail on
 * PostgreSQL's catalog; the second waits, then finds the tables. */
#define STORE_PG_SCHEMA_LOCK "DO $$ BEGIN PERFORM pg_advisory_xact_lock(2088915627); END $$"
int store_pg_schema_ddl(const bool *exists, buf_t *out);

/* ---- one batch's increments (batch.c), shared by the back ends ---- */

struct cJSON;

typedef struct {
    store_entity_t entity;
    const char *id, *id2;
    double amount;
} store_spend_item_t;

typedef struct {
    store_daily_t table;
    store_daily_delta_t d;
} store_daily_item_t;

/* Growable arrays for one batch's increments. */
typedef struct {
    store_spend_item_t *spend;
    size_t nspend, capspend;
    store_daily_item_t *daily;
    size_t ndaily, capdaily;
} store_batch_acc_t;

/* Collects the increments of one new log. Tag strings point into *tags_doc, kept by the caller. */
int store_batch_collect(store_batch_acc_t *a, const store_spend_log_t *l, const char *date,
                        struct cJSON **tags_doc);

/* Sorts and sums: afterwards each distinct row appears once in spend[] and daily[]. */
void store_batch_merge(store_batch_acc_t *a);

void store_batch_acc_free(store_batch_acc_t *a);

#endif
