/* SPDX-License-Identifier: MIT
 * The one description of the LiteLLM tables sluice reads and writes (names, Prisma types,
 * nullability, defaults, keys, indexes), rendered into SQLite or PostgreSQL DDL. The names are
 * LiteLLM's exactly (schema.prisma), so sluice can share the database of a running LiteLLM.
 * DDL is CREATE ... IF NOT EXISTS only: an existing table is never altered. */
#ifndef SLUICE_STORE_SCHEMA_H
#define SLUICE_STORE_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

typedef enum { STORE_DIALECT_SQLITE, STORE_DIALECT_POSTGRES } store_dialect_t;

/* Prisma scalar types. PostgreSQL gets Prisma's own mapping; SQLite gets the affinity that keeps
 * the value as written (JSON, timestamps and lists are TEXT: a JSON array for String[]). */
typedef enum {
    STORE_TYPE_TEXT,      /* String    TEXT              TEXT */
    STORE_TYPE_FLOAT,     /* Float     DOUBLE PRECISION  REAL */
    STORE_TYPE_INT,       /* Int       INTEGER           INTEGER */
    STORE_TYPE_BIGINT,    /* BigInt    BIGINT            INTEGER */
    STORE_TYPE_BOOL,      /* Boolean   BOOLEAN           INTEGER 0/1 */
    STORE_TYPE_JSON,      /* Json      JSONB             TEXT */
    STORE_TYPE_TIME,      /* DateTime  TIMESTAMP(3)      TEXT "YYYY-MM-DD HH:MM:SS.mmm", UTC */
    STORE_TYPE_TEXT_LIST, /* String[]  TEXT[]            TEXT (JSON array) */
} store_type_t;

/* Column defaults the database applies. Prisma's uuid()/cuid() ids and @updatedAt columns have
 * none: the writer fills them (LiteLLM's Prisma client does it in Python). */
typedef enum {
    STORE_DEF_NONE,
    STORE_DEF_ZERO, /* 0 or 0.0 */
    STORE_DEF_FALSE,
    STORE_DEF_TRUE,
    STORE_DEF_EMPTY_TEXT,  /* '' */
    STORE_DEF_JSON_OBJECT, /* '{}' */
    STORE_DEF_JSON_ARRAY,  /* '[]' */
    STORE_DEF_EMPTY_LIST,  /* ARRAY[]::TEXT[] / '[]' */
    STORE_DEF_NOW,         /* CURRENT_TIMESTAMP */
} store_default_t;

typedef struct {
    const char *name; /* exact, case-sensitive: "startTime" */
    store_type_t type;
    bool not_null;
    store_default_t def;
} store_column_t;

/* Up to STORE_INDEX_MAX_COLUMNS column names, NULL-terminated. */
#define STORE_INDEX_MAX_COLUMNS 8
typedef struct {
    const char *columns[STORE_INDEX_MAX_COLUMNS + 1];
    bool unique;
} store_index_t;

typedef struct {
    const char *name; /* "LiteLLM_SpendLogs" */
    const store_column_t *columns;
    size_t num_columns;
    const char *primary_key[3]; /* NULL-terminated */
    const store_index_t *indexes;
    size_t num_indexes;
} store_table_t;

/* The tables, in creation order. */
extern const store_table_t *const store_schema_tables[];
extern const size_t store_schema_num_tables;

/* The table named `name`, or NULL. */
const store_table_t *store_schema_table(const char *name);
/* The column named `name` of t, or NULL. */
const store_column_t *store_schema_column(const store_table_t *t, const char *name);

/* Appends the CREATE TABLE IF NOT EXISTS statement and the CREATE [UNIQUE] INDEX IF NOT EXISTS
 * statements of one table, each ending in ";\n". Index and key names follow Prisma's
 * ("<table>_<cols>_idx" / "_key" / "_pkey", cut to PostgreSQL's 63 bytes as Prisma cuts them), so
 * on a database LiteLLM migrated they already exist and nothing happens. 0, or -1 on no memory. */
int store_schema_table_ddl(store_dialect_t dialect, const store_table_t *t, buf_t *out);

/* Appends the DDL of every table: a script that creates whatever is absent. 0, or -1. */
int store_schema_ddl(store_dialect_t dialect, buf_t *out);

/* Appends the DDL (table and indexes) of each table whose exists[i] is false, exists indexed as
 * store_schema_tables: how every back end creates the absent tables and leaves the others exactly
 * as they are. Returns how many tables it rendered, or -1 on no memory. */
int store_schema_absent_ddl(store_dialect_t dialect, const bool *exists, buf_t *out);

/* Appends the quoted identifier ("name", doubled quotes inside). 0, or -1. */
int store_schema_quote(buf_t *out, const char *ident);

#endif
