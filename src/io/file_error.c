/*
 * file_error.c — the file readers' and writers' error message (see
 * file_error.h).
 */
#include <stdarg.h>
#include <stdio.h>

#include "io/file_error.h"
#include "tensor/tensor_internal.h"

int pf_file_fail(const pf_file_source *src, const char *fmt, ...)
{
    char msg[768];
    va_list args;
    va_start(args, fmt);
    vsnprintf(msg, sizeof msg, fmt, args);
    va_end(args);
    pf_fail("%s: %s: %s", src->fn, src->where, msg);
    return -1;
}
