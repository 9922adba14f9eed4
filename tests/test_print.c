/*
 * test_print.c — pf_format against PyTorch's str().
 *
 * tests/golden/print_cases.txt (written by tests/golden/generate.py) holds,
 * for each case, a line "=== name" followed by PyTorch's text of the tensor
 * "name" of tests/golden/print_cases.safetensors. Each case is one cmocka
 * test that formats the tensor with pf_format and compares the text exactly.
 * The tensors carry no gradient (profond shows grad_fn differently).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testing.h"

#define MAX_CASES 128

typedef struct print_case {
    char name[64];
    char *expected;  /* PyTorch's text, without the final newline */
} print_case;

static print_case cases[MAX_CASES];
static int ncases;
static char *file_text;

/* Reads print_cases.txt and cuts it into cases (in place). */
static bool read_cases(void)
{
    FILE *f = fopen(pf_test_path("golden/print_cases.txt"), "rb");
    if (!f)
        return false;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    file_text = malloc((size_t)size + 1);
    if (!file_text || fread(file_text, 1, (size_t)size, f) != (size_t)size) {
        fclose(f);
        return false;
    }
    fclose(f);
    file_text[size] = '\0';

    /* Cases start at lines "=== name"; a case's text runs to the next one. */
    print_case *current = NULL;
    for (char *line = file_text; line && *line;) {
        char *next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        if (strncmp(line, "=== ", 4) == 0) {
            if (ncases == MAX_CASES)
                return false;
            current = &cases[ncases++];
            snprintf(current->name, sizeof current->name, "%s", line + 4);
            current->expected = next ? next : line + strlen(line);
        } else if (current && next) {
            /* Restore the newline inside a case's text; the one before the
             * next "===" line (or the end) stays cut. */
            if (strncmp(next, "=== ", 4) != 0 && *next)
                next[-1] = '\n';
        }
        line = next;
    }
    return ncases > 0;
}

/* cmocka hands each test its case in *state; the fixture adds the context
 * of pf_test_setup, whose teardown fails a test that left an error. */
typedef struct fixture {
    void *ctx;
    const print_case *c;
} fixture;

static int case_setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    f->c = *state;
    *state = f;
    return pf_test_setup(&f->ctx);
}

static int case_teardown(void **state)
{
    fixture *f = *state;
    int rc = pf_test_teardown(&f->ctx);
    free(f);
    return rc;
}

static void test_case(void **state)
{
    fixture *f = *state;
    pf_ctx *ctx = f->ctx;
    const print_case *c = f->c;
    pf_golden g = pf_golden_load(ctx, "print_cases");
    pf_tensor *t = pf_golden_get(&g, c->name);

    size_t len = pf_format(t, NULL, 0);
    char *text = malloc(len + 1);
    assert_non_null(text);
    assert_int_equal(pf_format(t, text, len + 1), len);
    if (strcmp(text, c->expected) != 0) {
        print_error("case %s\n--- PyTorch:\n%s\n--- profond:\n%s\n", c->name, c->expected, text);
        free(text);
        fail();
    }
    free(text);
}

/* pf_format into a short buffer: truncated, terminated, full length
 * returned (as snprintf). */
static void test_format_truncates(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *t = pf_from_f32(ctx, (float[]){1, 2, 4}, PF_DIMS(3));
    char buf[8];
    memset(buf, 'x', sizeof buf);
    assert_int_equal(pf_format(t, buf, sizeof buf), strlen("tensor([1., 2., 4.])"));
    assert_string_equal(buf, "tensor(");
}

int main(void)
{
    if (!read_cases()) {
        fprintf(stderr, "cannot read %s\n", pf_test_path("golden/print_cases.txt"));
        return 1;
    }
    static struct CMUnitTest tests[MAX_CASES + 1];
    for (int i = 0; i < ncases; i++)
        tests[i] = (struct CMUnitTest){cases[i].name, test_case, case_setup, case_teardown, &cases[i]};
    tests[ncases] = (struct CMUnitTest){"format_truncates", test_format_truncates, pf_test_setup,
                                        pf_test_teardown, NULL};
    int failed = _cmocka_run_group_tests("print", tests, (size_t)ncases + 1, NULL, NULL);
    free(file_text);
    return failed;
}
