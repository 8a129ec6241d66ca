/* SPDX-License-Identifier: MIT
 * The cost of one call and its x-litellm-response-cost text. The arithmetic follows LiteLLM's
 * generic_cost_per_token step by step, in the same order, so the doubles (and the header text)
 * come out bit for bit the same as LiteLLM's for the same prices and usage. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spend/spend.h"

/* a*b+c fused into one rounding would differ from Python's two roundings */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__) && (defined(__FMA__) || defined(__aarch64__))
#pragma GCC optimize("fp-contract=off")
#endif

double spend_cost(const spend_price_t *p, const spend_usage_t *u)
{
    if (!p || !u || p->free)
        return 0.0;

    double in = p->input, out = p->output, read = p->cache_read, write = p->cache_creation;
    if (p->above && u->prompt_tokens > p->above) {
        /* all or nothing: the whole request at the long-context rates */
        in = p->input_above;
        out = p->output_above;
        read = p->cache_read_above;
        write = p->cache_creation_above;
    }

    /* prompt_tokens counts cached and cache-written tokens too; each is billed once */
    uint64_t cached = u->cached_tokens, created = u->cache_creation_tokens;
    uint64_t text = u->prompt_tokens;
    text = text > cached ? text - cached : 0;
    text = text > created ? text - created : 0;

    double prompt_cost = (double)text * in;
    prompt_cost += (double)cached * read;
    if (created)
        prompt_cost += (double)created * write;
    double completion_cost = (double)u->completion_tokens * out;
    double total = prompt_cost + completion_cost;
    if (p->per_request != 0.0)
        total += (double)(u->requests ? u->requests : 1) * p->per_request;
    return total;
}

/* Python's repr(float): the shortest digit string that reads back as the same double (the
 * nearest such string if several), positional when the decimal exponent is in [-4, 16),
 * else d.ddde[+-]XX. At most three printf calls (subnormals aside): when a string of 15 or fewer
 * digits reads back, %.14e is it padded with zeros (15-digit decimals are farther apart than one
 * double ulp, so at most one lies in x's rounding interval); else %.15e or %.16e, the nearest of
 * its length, and 17 digits always read back. */
int spend_format_cost(double cost, char *buf, size_t n)
{
    char tmp[40], digits[20];
    size_t nd = 0;
    int exp10 = 0;
    int len;

    if (isnan(cost))
        len = snprintf(tmp, sizeof tmp, "nan");
    else if (isinf(cost))
        len = snprintf(tmp, sizeof tmp, "%sinf", cost < 0 ? "-" : "");
    else if (cost == 0.0)
        len = snprintf(tmp, sizeof tmp, "%s0.0", signbit(cost) ? "-" : "");
    else {
        double a = fabs(cost);
        char sci[40];
        /* subnormals have fewer bits, so the 15-digit argument does not hold: search all */
        for (int prec = a < DBL_MIN ? 0 : 14; prec <= 16; prec++) {
            snprintf(sci, sizeof sci, "%.*e", prec, a);
            if (prec == 16 || strtod(sci, NULL) == a)
                break;
        }
        /* sci is "d.ddddde[+-]XX" */
        char *e = strchr(sci, 'e');
        exp10 = atoi(e + 1);
        for (const char *s = sci; s < e; s++)
            if (*s != '.')
                digits[nd++] = *s;
        while (nd > 1 && digits[nd - 1] == '0')
            nd--;
        digits[nd] = '\0';

        char *w = tmp;
        if (cost < 0)
            *w++ = '-';
        int decpt = exp10 + 1; /* digits are 0.d1d2... x 10^decpt */
        if (decpt > -4 && decpt <= 16) {
            if (decpt <= 0) {
                *w++ = '0';
                *w++ = '.';
                for (int i = 0; i < -decpt; i++)
                    *w++ = '0';
                memcpy(w, digits, nd);
                w += nd;
            } else if ((size_t)decpt >= nd) {
                memcpy(w, digits, nd);
                w += nd;
                for (size_t i = nd; i < (size_t)decpt; i++)
                    *w++ = '0';
                *w++ = '.';
                *w++ = '0';
            } else {
                memcpy(w, digits, (size_t)decpt);
                w += decpt;
                *w++ = '.';
                memcpy(w, digits + decpt, nd - (size_t)decpt);
                w += nd - (size_t)decpt;
            }
            *w = '\0';
        } else {
            *w++ = digits[0];
            if (nd > 1) {
                *w++ = '.';
                memcpy(w, digits + 1, nd - 1);
                w += nd - 1;
            }
            snprintf(w, sizeof tmp - (size_t)(w - tmp), "e%c%02d", exp10 < 0 ? '-' : '+',
                     exp10 < 0 ? -exp10 : exp10);
        }
        len = (int)strlen(tmp);
    }
    if (len < 0 || (size_t)len >= n)
        return -1;
    memcpy(buf, tmp, (size_t)len + 1);
    return len;
}
