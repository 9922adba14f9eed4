/*
 * file_error.h — how the file readers and writers report a failure: the
 * public function, the file (or "buffer"), then what is wrong, as
 * "pf_safetensors_load: model.safetensors: header length 12 past the end".
 */
#ifndef PF_IO_FILE_ERROR_H
#define PF_IO_FILE_ERROR_H

/* Where an error happened: the public function and the file (or "buffer"). */
typedef struct pf_file_source {
    const char *fn;
    const char *where;
} pf_file_source;

/* Records "fn: where: message" (the thread's sticky error) and returns -1. */
int pf_file_fail(const pf_file_source *src, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#endif
