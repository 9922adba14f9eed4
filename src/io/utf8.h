/*
 * utf8.h — strict UTF-8 validation, shared by the file readers (safetensors
 * headers and tensor names, .pth state_dict keys).
 */
#ifndef PF_IO_UTF8_H
#define PF_IO_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Strict UTF-8 (no overlong forms, surrogates or code points past
 * U+10FFFF), as safetensors' reference implementation requires. Returns
 * the offset of the first bad byte, or n when all are valid. */
size_t pf_utf8_invalid_at(const uint8_t *s, size_t n);

#endif
