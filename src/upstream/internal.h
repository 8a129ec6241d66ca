/* SPDX-License-Identifier: MIT
 * Inside the upstream module: two back ends behind up_*. The native HTTP/1.1 client (h1.c) is
 * the default for http:// and https://; libcurl (curl.c) serves when a proxy is configured in
 * the environment or SLUICE_UPSTREAM=curl. Both request types begin with a back-end tag. */
#ifndef SLUICE_UPSTREAM_INTERNAL_H
#define SLUICE_UPSTREAM_INTERNAL_H

#include "upstream/upstream.h"

enum { UP_BACKEND_H1 = 1, UP_BACKEND_CURL = 2 };

typedef struct upc_client upc_client_t;
typedef struct upc_req upc_req_t;

upc_client_t *upc_client_new(uv_loop_t *loop);
void upc_client_free(upc_client_t *client);
upc_req_t *upc_start(upc_client_t *client, const up_spec_t *spec, const up_callbacks_t *cb,
                     void *arg);
void upc_cancel(upc_req_t *req);
size_t upc_client_active(const upc_client_t *client);

#endif
