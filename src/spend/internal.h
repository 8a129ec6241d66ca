/* SPDX-License-Identifier: MIT
 * Private to src/spend: the built-in price rows (builtin.c) that prices.c indexes. */
#ifndef SLUICE_SPEND_INTERNAL_H
#define SLUICE_SPEND_INTERNAL_H

#include <stddef.h>

#include "spend/spend.h"

/* One row of the built-in table: a LiteLLM cost-map key and its prices, USD per token.
 * Only key, provider, mode and the price fields are read; `source` is set when indexed. */
extern const spend_price_t spend_builtin_rows[];
extern const size_t spend_builtin_num_rows;

#endif
