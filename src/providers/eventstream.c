/* SPDX-License-Identifier: MIT
 * AWS event-stream framing: decoder and encoder. The decoder parses messages that arrive whole
 * in one read straight from the caller's bytes and buffers only a message that straddles reads
 * (at most max_message bytes). Both CRCs are checked before a message is yielded; the prelude's
 * before its length is trusted, so a corrupt length never makes the decoder wait or allocate. */
#include "providers/eventstream.h"

#include <string.h>

/* CRC32, reflected polynomial 0xEDB88320 (table computed once for this file). */
static const uint32_t evs_crc_table[256] = {
    0x00000000u, 0x77073096u, 0xee0e612cu, 0x990951bau, 0x076dc419u, 0x706af48fu, 0xe963a535u,
    0x9e6495a3u, 0x0edb8832u, 0x79dcb8a4u, 0xe0d5e91eu, 0x97d2d988u, 0x09b64c2bu, 0x7eb17cbdu,
    0xe7b82d07u, 0x90bf1d91u, 0x1db71064u, 0x6ab020f2u, 0xf3b97148u, 0x84be41deu, 0x1adad47du,
    0x6ddde4ebu, 0xf4d4b551u, 0x83d385c7u, 0x136c9856u, 0x646ba8c0u, 0xfd62f97au, 0x8a65c9ecu,
    0x14015c4fu, 0x63066cd9u, 0xfa0f3d63u, 0x8d080df5u, 0x3b6e20c8u, 0x4c69105eu, 0xd56041e4u,
    0xa2677172u, 0x3c03e4d1u, 0x4b04d447u, 0xd20d85fdu, 0xa50ab56bu, 0x35b5a8fau, 0x42b2986cu,
    0xdbbbc9d6u, 0xacbcf940u, 0x32d86ce3u, 0x45df5c75u, 0xdcd60dcfu, 0xabd13d59u, 0x26d930acu,
    0x51de003au, 0xc8d75180u, 0xbfd06116u, 0x21b4f4b5u, 0x56b3c423u, 0xcfba9599u, 0xb8bda50fu,
    0x2802b89eu, 0x5f058808u, 0xc60cd9b2u, 0xb10be924u, 0x2f6f7c87u, 0x58684c11u, 0xc1611dabu,
    0xb6662d3du, 0x76dc4190u, 0x01db7106u, 0x98d220bcu, 0xefd5102au, 0x71b18589u, 0x06b6b51fu,
    0x9fbfe4a5u, 0xe8b8d433u, 0x7807c9a2u, 0x0f00f934u, 0x9609a88eu, 0xe10e9818u, 0x7f6a0dbbu,
    0x086d3d2du, 0x91646c97u, 0xe6635c01u, 0x6b6b51f4u, 0x1c6c6162u, 0x856530d8u, 0xf262004eu,
    0x6c0695edu, 0x1b01a57bu, 0x8208f4c1u, 0xf50fc457u, 0x65b0d9c6u, 0x12b7e950u, 0x8bbeb8eau,
    0xfcb9887cu, 0x62dd1ddfu, 0x15da2d49u, 0x8cd37cf3u, 0xfbd44c65u, 0x4db26158u, 0x3ab551ceu,
    0xa3bc0074u, 0xd4bb30e2u, 0x4adfa541u, 0x3dd895d7u, 0xa4d1c46du, 0xd3d6f4fbu, 0x4369e96au,
    0x346ed9fcu, 0xad678846u, 0xda60b8d0u, 0x44042d73u, 0x33031de5u, 0xaa0a4c5fu, 0xdd0d7cc9u,
    0x5005713cu, 0x270241aau, 0xbe0b1010u, 0xc90c2086u, 0x5768b525u, 0x206f85b3u, 0xb966d409u,
    0xce61e49fu, 0x5edef90eu, 0x29d9c998u, 0xb0d09822u, 0xc7d7a8b4u, 0x59b33d17u, 0x2eb40d81u,
    0xb7bd5c3bu, 0xc0ba6cadu, 0xedb88320u, 0x9abfb3b6u, 0x03b6e20cu, 0x74b1d29au, 0xead54739u,
    0x9dd277afu, 0x04db2615u, 0x73dc1683u, 0xe3630b12u, 0x94643b84u, 0x0d6d6a3eu, 0x7a6a5aa8u,
    0xe40ecf0bu, 0x9309ff9du, 0x0a00ae27u, 0x7d079eb1u, 0xf00f9344u, 0x8708a3d2u, 0x1e01f268u,
    0x6906c2feu, 0xf762575du, 0x806567cbu, 0x196c3671u, 0x6e6b06e7u, 0xfed41b76u, 0x89d32be0u,
    0x10da7a5au, 0x67dd4accu, 0xf9b9df6fu, 0x8ebeeff9u, 0x17b7be43u, 0x60b08ed5u, 0xd6d6a3e8u,
    0xa1d1937eu, 0x38d8c2c4u, 0x4fdff252u, 0xd1bb67f1u, 0xa6bc5767u, 0x3fb506ddu, 0x48b2364bu,
    0xd80d2bdau, 0xaf0a1b4cu, 0x36034af6u, 0x41047a60u, 0xdf60efc3u, 0xa867df55u, 0x316e8eefu,
    0x4669be79u, 0xcb61b38cu, 0xbc66831au, 0x256fd2a0u, 0x5268e236u, 0xcc0c7795u, 0xbb0b4703u,
    0x220216b9u, 0x5505262fu, 0xc5ba3bbeu, 0xb2bd0b28u, 0x2bb45a92u, 0x5cb36a04u, 0xc2d7ffa7u,
    0xb5d0cf31u, 0x2cd99e8bu, 0x5bdeae1du, 0x9b64c2b0u, 0xec63f226u, 0x756aa39cu, 0x026d930au,
    0x9c0906a9u, 0xeb0e363fu, 0x72076785u, 0x05005713u, 0x95bf4a82u, 0xe2b87a14u, 0x7bb12baeu,
    0x0cb61b38u, 0x92d28e9bu, 0xe5d5be0du, 0x7cdcefb7u, 0x0bdbdf21u, 0x86d3d2d4u, 0xf1d4e242u,
    0x68ddb3f8u, 0x1fda836eu, 0x81be16cdu, 0xf6b9265bu, 0x6fb077e1u, 0x18b74777u, 0x88085ae6u,
    0xff0f6a70u, 0x66063bcau, 0x11010b5cu, 0x8f659effu, 0xf862ae69u, 0x616bffd3u, 0x166ccf45u,
    0xa00ae278u, 0xd70dd2eeu, 0x4e048354u, 0x3903b3c2u, 0xa7672661u, 0xd06016f7u, 0x4969474du,
    0x3e6e77dbu, 0xaed16a4au, 0xd9d65adcu, 0x40df0b66u, 0x37d83bf0u, 0xa9bcae53u, 0xdebb9ec5u,
    0x47b2cf7fu, 0x30b5ffe9u, 0xbdbdf21cu, 0xcabac28au, 0x53b39330u, 0x24b4a3a6u, 0xbad03605u,
    0xcdd70693u, 0x54de5729u, 0x23d967bfu, 0xb3667a2eu, 0xc4614ab8u, 0x5d681b02u, 0x2a6f2b94u,
    0xb40bbe37u, 0xc30c8ea1u, 0x5a05df1bu, 0x2d02ef8du,
};

uint32_t evs_crc32(uint32_t crc, const void *p, size_t n)
{
    const unsigned char *s = p;
    crc = ~crc;
    for (size_t i = 0; i < n; i++)
        crc = evs_crc_table[(crc ^ s[i]) & 0xff] ^ (crc >> 8);
    return ~crc;
}

static uint32_t evs_be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t evs_be(const unsigned char *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

static void evs_put_be(unsigned char *p, uint64_t v, size_t n)
{
    for (size_t i = n; i > 0; i--) {
        p[i - 1] = (unsigned char)v;
        v >>= 8;
    }
}

const char *evs_strerror(int err)
{
    switch (err) {
    case 0:
        return "ok";
    case EVS_ERR_PRELUDE_CRC:
        return "event-stream prelude CRC mismatch";
    case EVS_ERR_MESSAGE_CRC:
        return "event-stream message CRC mismatch";
    case EVS_ERR_TOO_LARGE:
        return "event-stream message too large";
    case EVS_ERR_MALFORMED:
        return "malformed event-stream message";
    case EVS_ERR_TRUNCATED:
        return "event-stream ended inside a message";
    case EVS_ERR_NOMEM:
        return "out of memory";
    default:
        return "event-stream error";
    }
}

void evs_decoder_init(evs_decoder_t *d, size_t max_message)
{
    *d = (evs_decoder_t){.max_message = max_message ? max_message : EVS_DEFAULT_MAX_MESSAGE};
}

void evs_decoder_free(evs_decoder_t *d)
{
    buf_free(&d->buf);
    d->need = 0;
}

/* Checks the 12-byte prelude at p; *total gets the message length. */
static int evs_prelude(const evs_decoder_t *d, const unsigned char *p, size_t *total)
{
    if (evs_crc32(0, p, 8) != evs_be32(p + 8))
        return EVS_ERR_PRELUDE_CRC;
    uint32_t t = evs_be32(p), h = evs_be32(p + 4);
    if (t < EVS_MIN_MESSAGE)
        return EVS_ERR_MALFORMED;
    if (t > d->max_message || h > EVS_MAX_HEADER_BYTES)
        return EVS_ERR_TOO_LARGE;
    if (h > t - EVS_MIN_MESSAGE)
        return EVS_ERR_MALFORMED;
    *total = t;
    return 0;
}

/* Parses the header block p[0..n) into m. */
static int evs_parse_headers(const unsigned char *p, size_t n, evs_message_t *m)
{
    static const unsigned char fixed[10] = {0, 0, 1, 2, 4, 8, 0, 0, 8, 16};
    size_t i = 0;
    m->num_headers = 0;
    while (i < n) {
        if (m->num_headers == EVS_MAX_HEADERS)
            return EVS_ERR_MALFORMED;
        size_t name_n = p[i++];
        if (name_n == 0 || n - i < name_n + 1)
            return EVS_ERR_MALFORMED;
        evs_header_t *h = &m->headers[m->num_headers++];
        h->name = str_make((const char *)p + i, name_n);
        i += name_n;
        unsigned type = p[i++];
        if (type > EVS_UUID)
            return EVS_ERR_MALFORMED;
        h->type = (evs_type_t)type;
        h->value = STR_NULL;
        h->num = 0;
        size_t len = fixed[type];
        if (type == EVS_BYTES || type == EVS_STRING) {
            if (n - i < 2)
                return EVS_ERR_MALFORMED;
            len = (size_t)p[i] << 8 | p[i + 1];
            i += 2;
        }
        if (n - i < len)
            return EVS_ERR_MALFORMED;
        switch (h->type) {
        case EVS_TRUE:
            h->num = 1;
            break;
        case EVS_FALSE:
            break;
        case EVS_BYTE:
            h->num = (int8_t)p[i];
            break;
        case EVS_SHORT:
            h->num = (int16_t)(uint16_t)evs_be(p + i, 2);
            break;
        case EVS_INT:
            h->num = (int32_t)(uint32_t)evs_be(p + i, 4);
            break;
        case EVS_LONG:
        case EVS_TIMESTAMP:
            h->num = (int64_t)evs_be(p + i, 8);
            break;
        case EVS_BYTES:
        case EVS_STRING:
        case EVS_UUID:
            h->value = str_make((const char *)p + i, len);
            break;
        }
        i += len;
    }
    return 0;
}

/* Checks the complete message p[0..total) and yields it: an EVS_ERR_* for a bad message, else
 * 0 with the callback's value in *cb_rc. */
static int evs_deliver(const unsigned char *p, size_t total, evs_message_fn cb, void *arg,
                       int *cb_rc)
{
    if (evs_crc32(0, p, total - 4) != evs_be32(p + total - 4))
        return EVS_ERR_MESSAGE_CRC;
    size_t hn = evs_be32(p + 4);
    evs_message_t m;
    int rc = evs_parse_headers(p + EVS_PRELUDE_BYTES, hn, &m);
    if (rc)
        return rc;
    m.payload = str_make((const char *)p + EVS_PRELUDE_BYTES + hn, total - EVS_MIN_MESSAGE - hn);
    *cb_rc = cb(arg, &m);
    return 0;
}

int evs_feed(evs_decoder_t *d, const char *data, size_t n, evs_message_fn cb, void *arg)
{
    const unsigned char *p = (const unsigned char *)data;
    if (d->error)
        return d->error;
    while (n > 0) {
        size_t total;
        int rc, cb_rc = 0;
        if (d->buf.n == 0 && n >= EVS_PRELUDE_BYTES) {
            /* nothing buffered: take whole messages straight from the input */
            if ((rc = evs_prelude(d, p, &total)) != 0)
                return d->error = rc;
            if (n >= total) {
                if ((rc = evs_deliver(p, total, cb, arg, &cb_rc)) != 0)
                    return d->error = rc;
                p += total;
                n -= total;
                if (cb_rc)
                    return cb_rc;
                continue;
            }
        }
        size_t want = d->need ? d->need : EVS_PRELUDE_BYTES;
        size_t take = want - d->buf.n < n ? want - d->buf.n : n;
        if (buf_append(&d->buf, p, take) != 0)
            return d->error = EVS_ERR_NOMEM;
        p += take;
        n -= take;
        if (d->buf.n < want)
            break;
        if (!d->need) {
            if ((rc = evs_prelude(d, (const unsigned char *)d->buf.p, &total)) != 0)
                return d->error = rc;
            d->need = total;
            continue;
        }
        rc = evs_deliver((const unsigned char *)d->buf.p, d->need, cb, arg, &cb_rc);
        if (rc)
            return d->error = rc;
        d->buf.n = 0;
        d->need = 0;
        if (d->buf.cap > (1u << 20))
            buf_free(&d->buf); /* one large message does not pin its buffer */
        if (cb_rc)
            return cb_rc;
    }
    return 0;
}

int evs_finish(const evs_decoder_t *d)
{
    if (d->error)
        return d->error;
    return d->buf.n ? EVS_ERR_TRUNCATED : 0;
}

const evs_header_t *evs_header_find(const evs_message_t *m, const char *name)
{
    for (size_t i = 0; i < m->num_headers; i++)
        if (str_eq_cstr(m->headers[i].name, name))
            return &m->headers[i];
    return NULL;
}

str_t evs_header_string(const evs_message_t *m, const char *name)
{
    const evs_header_t *h = evs_header_find(m, name);
    return h && h->type == EVS_STRING ? h->value : STR_NULL;
}

/* ---- encoder ---------------------------------------------------------------------------- */

static const unsigned char evs_fixed_len[10] = {0, 0, 1, 2, 4, 8, 0, 0, 8, 16};

int evs_encode(buf_t *out, const evs_header_t *headers, size_t num_headers, str_t payload)
{
    size_t hn = 0;
    for (size_t i = 0; i < num_headers; i++) {
        const evs_header_t *h = &headers[i];
        if (h->name.n == 0 || h->name.n > 255 || (unsigned)h->type > EVS_UUID)
            return EVS_ERR_MALFORMED;
        size_t len = evs_fixed_len[h->type];
        if (h->type == EVS_BYTES || h->type == EVS_STRING) {
            if (h->value.n > 65535)
                return EVS_ERR_MALFORMED;
            len = 2 + h->value.n;
        } else if (h->type == EVS_UUID && h->value.n != 16) {
            return EVS_ERR_MALFORMED;
        }
        hn += 2 + h->name.n + len;
    }
    if (hn > EVS_MAX_HEADER_BYTES || payload.n > EVS_DEFAULT_MAX_MESSAGE ||
        EVS_MIN_MESSAGE + hn + payload.n > EVS_DEFAULT_MAX_MESSAGE)
        return EVS_ERR_TOO_LARGE;
    size_t total = EVS_MIN_MESSAGE + hn + payload.n;
    if (buf_reserve(out, total) != 0)
        return EVS_ERR_NOMEM;
    unsigned char *start = (unsigned char *)out->p + out->n, *w = start;
    evs_put_be(w, total, 4);
    evs_put_be(w + 4, hn, 4);
    evs_put_be(w + 8, evs_crc32(0, w, 8), 4);
    w += EVS_PRELUDE_BYTES;
    for (size_t i = 0; i < num_headers; i++) {
        const evs_header_t *h = &headers[i];
        *w++ = (unsigned char)h->name.n;
        memcpy(w, h->name.p, h->name.n);
        w += h->name.n;
        *w++ = (unsigned char)h->type;
        switch (h->type) {
        case EVS_TRUE:
        case EVS_FALSE:
            break;
        case EVS_BYTE:
        case EVS_SHORT:
        case EVS_INT:
        case EVS_LONG:
        case EVS_TIMESTAMP:
            evs_put_be(w, (uint64_t)h->num, evs_fixed_len[h->type]);
            w += evs_fixed_len[h->type];
            break;
        case EVS_BYTES:
        case EVS_STRING:
            evs_put_be(w, h->value.n, 2);
            w += 2;
            /* fall through */
        case EVS_UUID:
            if (h->value.n)
                memcpy(w, h->value.p, h->value.n);
            w += h->value.n;
            break;
        }
    }
    if (payload.n)
        memcpy(w, payload.p, payload.n);
    w += payload.n;
    evs_put_be(w, evs_crc32(0, start, (size_t)(w - start)), 4);
    out->n += total;
    return 0;
}

static int evs_encode3(buf_t *out, const char *first_name, str_t first_value,
                       const char *message_type, str_t json)
{
    evs_header_t h[3] = {
        {.name = str_cstr(first_name), .type = EVS_STRING, .value = first_value},
        {.name = STR_LIT(":content-type"),
         .type = EVS_STRING,
         .value = STR_LIT("application/json")},
        {.name = STR_LIT(":message-type"), .type = EVS_STRING, .value = str_cstr(message_type)},
    };
    return evs_encode(out, h, 3, json);
}

int evs_encode_event(buf_t *out, str_t event_type, str_t json)
{
    return evs_encode3(out, ":event-type", event_type, "event", json);
}

int evs_encode_exception(buf_t *out, str_t exception_type, str_t json)
{
    return evs_encode3(out, ":exception-type", exception_type, "exception", json);
}
