/*
 * lecture_testing.h — what the tests of the lecture's experiments
 * (tests/test_lecture_*.c) share: a temporary output folder, the files an
 * experiment writes (results.json and its numbers, PNG figures), read back
 * with failures that say which file and which key.
 */
#ifndef PF_LECTURE_TESTING_H
#define PF_LECTURE_TESTING_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

/* Makes a fresh folder /tmp/pf_NAME_XXXXXX into dir (n bytes); false, with
 * a message on standard error, if it cannot. */
bool pf_test_make_temp_dir(char *dir, size_t n, const char *name);
/* Removes the folder and everything in it; false if it cannot. */
bool pf_test_remove_dir(const char *dir);

/* DIR/NAME/results.json, parsed (cJSON_Delete it); fails the test if it is
 * missing or not JSON. */
cJSON *pf_test_read_results(const char *dir, const char *name);

/* results["numbers"][key] as a number; fails the test if it is not one. */
double pf_test_number(const cJSON *results, const char *key);
/* The values of the series results["numbers"][key] into out: fails the
 * test unless it is an array of at most max values; returns how many. */
int pf_test_series(const cJSON *results, const char *key, double *out, int max);
/* The same, failing unless it has exactly n values. */
void pf_test_series_n(const cJSON *results, const char *key, double *out, int n);
/* Whether one of results["notes"] contains needle. */
bool pf_test_notes_contain(const cJSON *results, const char *needle);

/* Writes DIR/FILE as an uncompressed IDX file of unsigned bytes with ndim
 * (at most 3) dimensions dims, holding the n bytes; fails the test if it
 * cannot. For small MNIST-style folders made by tests. */
void pf_test_write_idx(const char *dir, const char *file, int ndim, const int *dims, const unsigned char *bytes,
                       size_t n);

/* Fails unless path starts as a PNG image does (signature, then the IHDR
 * chunk) and is width x height pixels, or, with width 0, at least min_side
 * pixels each way. */
void pf_test_assert_png_header(const char *path, unsigned long width, unsigned long height,
                               unsigned long min_side);
/* Fails unless path is a PNG file that libpng decodes to its last row, of
 * at least min_side pixels each way. */
void pf_test_assert_png_decodes(const char *path, unsigned min_side);

#endif
