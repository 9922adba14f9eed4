/*
 * error.c — the sticky error state (one per thread).
 *
 * The first failure is kept until pf_error_clear(); later failures, which are
 * usually consequences of the first (an op handed a NULL tensor), do not
 * overwrite it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tensor/tensor_internal.h"

static _Thread_local char error_message[1024];
static _Thread_local bool error_set;

const char *pf_error(void) { return error_set ? error_message : NULL; }

void pf_error_clear(void)
{
    error_set = false;
    error_message[0] = '\0';
}

bool pf_ok(void) { return !error_set; }

void pf_error_prefix(const char *fmt, ...)
{
    if (!error_set)
        return;
    char prefix[512];
    va_list args;
    va_start(args, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, args);
    va_end(args);
    size_t plen = strlen(prefix), olen = strlen(error_message);
    if (plen + olen >= sizeof error_message)
        olen = sizeof error_message - 1 - plen;
    memmove(error_message + plen, error_message, olen);
    memcpy(error_message, prefix, plen);
    error_message[plen + olen] = '\0';
}

void *pf_fail(const char *fmt, ...)
{
    if (error_set)
        return NULL;
    va_list args;
    va_start(args, fmt);
    vsnprintf(error_message, sizeof error_message, fmt, args);
    va_end(args);
    error_set = true;
    return NULL;
}
