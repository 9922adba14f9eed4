/*
 * test_cli.c — the `profond` command, run as a user runs it: the real binary
 * (PF_PROFOND_BIN) through the shell, with its standard output and error
 * captured to files in a temporary folder, and its exit status checked.
 *
 * The group setup writes a small MNIST-style folder there, "tiny": the first
 * 2000 training and 500 test images of the shared MNIST, as plain IDX files,
 * and points PROFOND_DATA at the folder (so `--data tiny` finds it by name).
 * Runs use small models and two threads, to stay fast under AddressSanitizer.
 *
 * What is checked: train's JSON and human output, that a linear model learns,
 * that the progress bar appears on a terminal and only there; that eval,
 * predict and info agree with the training run and with the library; that
 * two runs with the same seed are identical; and that every error gives one
 * line on standard error and a non-zero exit status, never a crash.
 */
#define _XOPEN_SOURCE 700 /* mkdtemp, setenv, posix_openpt, ptsname */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "testing.h"

#define MNIST_DIR PF_SHARED_DATA_DIR "/mnist"
#define TRAIN_COUNT 2000
#define TEST_COUNT 500
/* The model most runs train: fast, and it learns MNIST quickly. */
#define LINEAR "flatten linear(784,10)"
/* The options of the reference training run (see trained_weights). */
#define TRAIN_ARGS "train --model '" LINEAR "' --data tiny --epochs 2 --lr 0.1 --threads 2"

static char tmp_dir[64];
/* Where run() captures the command's standard output and error. */
static char out_path[128], err_path[128];

/* ---- files ---------------------------------------------------------------- */

/* A path in the temporary folder, in one of 16 static buffers used in turn:
 * valid for the next 15 calls, enough for the arguments of one command. */
static const char *tmp_path(const char *name)
{
    static char buffers[16][256];
    static int next;
    char *buf = buffers[next++ % 16];
    snprintf(buf, sizeof buffers[0], "%s/%s", tmp_dir, name);
    return buf;
}

/* The whole file, NUL-terminated (malloc'd); *size gets its length. NULL if
 * it cannot be read. */
static char *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    long length = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    char *data = length >= 0 && fseek(f, 0, SEEK_SET) == 0 ? malloc((size_t)length + 1) : NULL;
    if (data && fread(data, 1, (size_t)length, f) != (size_t)length) {
        free(data);
        data = NULL;
    }
    fclose(f);
    if (data) {
        data[length] = '\0';
        if (size)
            *size = (size_t)length;
    }
    return data;
}

static bool write_file(const char *path, const void *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return false;
    bool ok = fwrite(data, 1, size, f) == size;
    return fclose(f) == 0 && ok;
}

/* Writes the first n items of t (uint8 images [N,H,W] or int64 labels [N],
 * 0..255) as a plain IDX file of unsigned bytes; with truncate_at > 0 only
 * that many bytes of it, to make a damaged file. */
static bool write_idx(const char *path, const pf_tensor *t, int64_t n, size_t truncate_at)
{
    size_t per_item = 1;
    for (int d = 1; d < t->ndim; d++)
        per_item *= (size_t)t->shape[d];
    size_t header = 4 + 4 * (size_t)t->ndim, size = header + per_item * (size_t)n;
    uint8_t *bytes = malloc(size);
    if (!bytes)
        return false;
    bytes[0] = 0, bytes[1] = 0, bytes[2] = 0x08, bytes[3] = (uint8_t)t->ndim; /* 0x08: unsigned byte */
    for (int d = 0; d < t->ndim; d++) {
        uint32_t dim = (uint32_t)(d == 0 ? n : t->shape[d]);
        for (int b = 0; b < 4; b++)
            bytes[4 + 4 * d + b] = (uint8_t)(dim >> (24 - 8 * b)); /* big-endian */
    }
    double *values = malloc(sizeof(double) * (size_t)pf_numel(t));
    bool ok = values && pf_copy_to_f64(t, values);
    for (size_t i = 0; ok && i < per_item * (size_t)n; i++)
        bytes[header + i] = (uint8_t)values[i];
    ok = ok && write_file(path, bytes, truncate_at > 0 ? truncate_at : size);
    free(values);
    free(bytes);
    return ok;
}

/* Writes the four IDX files of a dataset folder; with truncate, the training
 * images are cut in the middle of their data. */
static bool write_data_folder(const char *name, const pf_dataset *train, const pf_dataset *test, bool truncate)
{
    char dir[256], file[320];
    snprintf(dir, sizeof dir, "%s/%s", tmp_dir, name);
    if (mkdir(dir, 0755) != 0)
        return false;
#define FILE_IN(n) (snprintf(file, sizeof file, "%s/%s", dir, n), file)
    return write_idx(FILE_IN("train-images-idx3-ubyte"), train->images, TRAIN_COUNT,
                     truncate ? 16 + 28 * 28 * TRAIN_COUNT / 2 : 0) &&
           write_idx(FILE_IN("train-labels-idx1-ubyte"), train->labels, TRAIN_COUNT, 0) &&
           write_idx(FILE_IN("t10k-images-idx3-ubyte"), test->images, TEST_COUNT, 0) &&
           write_idx(FILE_IN("t10k-labels-idx1-ubyte"), test->labels, TEST_COUNT, 0);
#undef FILE_IN
}

/* Removes the temporary folder and everything in it. */
static void remove_tree(const char *dir)
{
    char command[512];
    snprintf(command, sizeof command, "rm -rf '%s'", dir);
    if (system(command) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

/* ---- running the command ---------------------------------------------------- */

typedef struct run_result {
    int status;   /* exit status; 128 + signal when the command crashed */
    bool crashed;
    char *out;    /* standard output */
    char *err;    /* standard error */
} run_result;

/* Runs `profond ARGS` (ARGS formatted as printf, and given to the shell)
 * with standard input from /dev/null. */
static run_result run(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
static run_result run(const char *fmt, ...)
{
    char args[2048], command[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(command, sizeof command, "'%s' %s </dev/null >'%s' 2>'%s'", PF_PROFOND_BIN, args, out_path,
             err_path);
    int status = system(command);
    run_result r = {0};
    if (status == -1) {
        print_error("cannot run: %s\n", command);
        fail();
    }
    if (WIFSIGNALED(status)) {
        r.crashed = true;
        r.status = 128 + WTERMSIG(status);
    } else {
        r.status = WEXITSTATUS(status);
        r.crashed = r.status >= 128; /* the shell reports a child killed by a signal so */
    }
    r.out = read_file(out_path, NULL);
    r.err = read_file(err_path, NULL);
    if (!r.out || !r.err) {
        print_error("cannot read the output of: %s\n", command);
        fail();
    }
    return r;
}

static void run_free(run_result *r)
{
    free(r->out);
    free(r->err);
    r->out = r->err = NULL;
}

/* Fails, showing the command's output, unless it exited with status 0 and
 * wrote nothing on standard error. */
static void assert_success(const run_result *r, const char *what)
{
    if (r->status != 0 || r->err[0] != '\0') {
        print_error("%s: exit status %d\n--- stdout:\n%s--- stderr:\n%s---\n", what, r->status, r->out, r->err);
        fail();
    }
}

/* Number of lines in text (a last line without '\n' counts). */
static int count_lines(const char *text)
{
    int n = 0;
    for (const char *p = text; *p; p++)
        n += *p == '\n' || p[1] == '\0';
    return n;
}

/* Case-insensitive strstr. */
static bool contains(const char *text, const char *needle)
{
    size_t n = strlen(needle);
    for (const char *p = text; *p; p++) {
        size_t i = 0;
        while (i < n && p[i] && tolower((unsigned char)p[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == n)
            return true;
    }
    return n == 0;
}

/* Runs profond with ARGS and fails unless it exits with a non-zero status
 * (not a crash), prints nothing but exactly one line on standard error, and
 * that line contains each of the needles (case-insensitive; NULL: none). */
#define expect_error(needle1, needle2, ...) expect_error_at(__FILE__, __LINE__, needle1, needle2, __VA_ARGS__)
static void expect_error_at(const char *file, int line, const char *needle1, const char *needle2, const char *fmt,
                            ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;
static void expect_error_at(const char *file, int line, const char *needle1, const char *needle2, const char *fmt,
                            ...)
{
    char args[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    run_result r = run("%s", args);
    const char *problem = NULL;
    size_t len = strlen(r.err);
    if (r.crashed)
        problem = "it crashed";
    else if (r.status == 0)
        problem = "it exited with status 0";
    else if (len == 0)
        problem = "nothing on standard error";
    else if (count_lines(r.err) != 1 || r.err[len - 1] != '\n')
        problem = "not exactly one line on standard error";
    else if (needle1 && !contains(r.err, needle1))
        problem = needle1;
    else if (needle2 && !contains(r.err, needle2))
        problem = needle2;
    if (problem) {
        print_error("%s:%d: profond %s\n  %s%s (exit status %d)\n--- stderr:\n%s--- stdout:\n%s---\n", file, line,
                    args, problem == needle1 || problem == needle2 ? "the message lacks: " : "", problem, r.status,
                    r.err, r.out);
        run_free(&r);
        _fail(file, line);
    }
    run_free(&r);
}

/* ---- the reference training run ------------------------------------------------ */

/* One epoch line of `train --json`, checked: an object with exactly the keys
 * epoch (= expected_epoch), train_loss (finite, > 0), test_error (in [0, 1])
 * and seconds (>= 0). The caller deletes it. */
static cJSON *parse_epoch_line(const char *line, int expected_epoch)
{
    cJSON *o = cJSON_Parse(line);
    if (!o || !cJSON_IsObject(o)) {
        print_error("not a JSON object: %s\n", line);
        fail();
    }
    assert_int_equal(cJSON_GetArraySize(o), 4);
    const char *keys[] = {"epoch", "train_loss", "test_error", "seconds"};
    for (int i = 0; i < 4; i++) {
        cJSON *v = cJSON_GetObjectItemCaseSensitive(o, keys[i]);
        if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) {
            print_error("key %s missing or not a finite number in: %s\n", keys[i], line);
            fail();
        }
    }
    assert_true(cJSON_GetObjectItemCaseSensitive(o, "epoch")->valuedouble == expected_epoch);
    assert_true(cJSON_GetObjectItemCaseSensitive(o, "train_loss")->valuedouble > 0);
    double error = cJSON_GetObjectItemCaseSensitive(o, "test_error")->valuedouble;
    assert_true(error >= 0 && error <= 1);
    assert_true(cJSON_GetObjectItemCaseSensitive(o, "seconds")->valuedouble >= 0);
    return o;
}

/* The lines of text (modified in place: '\n' becomes '\0'); returns the
 * count, at most max. */
static int split_lines(char *text, char **lines, int max)
{
    int n = 0;
    for (char *p = text; *p && n < max;) {
        lines[n++] = p;
        char *end = strchr(p, '\n');
        if (!end)
            break;
        *end = '\0';
        p = end + 1;
    }
    return n;
}

/* Trains LINEAR for two epochs with --json and --seed, saving the weights;
 * checks the output (two epoch lines, nothing else, nothing on stderr) and
 * returns the epoch objects in epochs[0..1] (the caller deletes them). */
static void train_json(int seed, const char *save, cJSON **epochs)
{
    run_result r = run(TRAIN_ARGS " --seed %d --json --save '%s'", seed, save);
    assert_success(&r, "train --json");
    size_t len = strlen(r.out);
    assert_true(len > 0 && r.out[len - 1] == '\n');
    char *lines[4];
    int n = split_lines(r.out, lines, 4);
    if (n != 2) {
        print_error("%d lines on stdout, expected 2\n", n);
        fail();
    }
    for (int i = 0; i < n; i++)
        epochs[i] = parse_epoch_line(lines[i], i + 1);
    run_free(&r);
}

/* The reference run: TRAIN_ARGS with seed 1, made once, on first use. Its
 * weights file is returned; its losses and test errors are kept here. */
static double reference_loss[2], reference_errors[2], reference_error = -1; /* the last epoch's */
static const char *trained_weights(void)
{
    static char path[256];
    if (reference_error < 0) {
        snprintf(path, sizeof path, "%s", tmp_path("linear.safetensors"));
        cJSON *epochs[2];
        train_json(1, path, epochs);
        for (int e = 0; e < 2; e++) {
            reference_loss[e] = cJSON_GetObjectItemCaseSensitive(epochs[e], "train_loss")->valuedouble;
            reference_errors[e] = cJSON_GetObjectItemCaseSensitive(epochs[e], "test_error")->valuedouble;
            cJSON_Delete(epochs[e]);
        }
        reference_error = reference_errors[1];
    }
    return path;
}

/* ---- tests ------------------------------------------------------------------ */

static void test_help(void **state)
{
    (void)state;
    /* Each command's usage, and the options the issue asks of it. */
    const char *commands[] = {"train", "eval", "predict", "info", "lecture"};
    const char *options[][12] = {
        {"--model", "--data", "--epochs", "--batch", "--optim", "--lr", "--momentum", "--threads", "--seed",
         "--save", "--json"},
        {"--weights", "--model", "--data", "--json"},
        {"--weights", "--model", "--input", "--output"},
        {"FILE"},
        {"--out", "--list"},
    };
    for (int i = 0; i < 5; i++) {
        run_result r = run("%s --help", commands[i]);
        assert_success(&r, commands[i]);
        char usage[64];
        snprintf(usage, sizeof usage, "usage: profond %s", commands[i]);
        if (strncmp(r.out, usage, strlen(usage)) != 0 || !strstr(r.out, "--help")) {
            print_error("profond %s --help printed:\n%s\n", commands[i], r.out);
            fail();
        }
        for (int j = 0; options[i][j]; j++)
            if (!strstr(r.out, options[i][j])) {
                print_error("profond %s --help does not mention %s\n", commands[i], options[i][j]);
                fail();
            }
        run_free(&r);
    }
    run_result r = run("--help");
    assert_success(&r, "profond --help");
    assert_non_null(strstr(r.out, "usage: profond"));
    run_free(&r);
}

/* --json: one object per epoch, nothing else on stdout, and the model learns. */
static void test_train_json(void **state)
{
    (void)state;
    trained_weights(); /* the output is checked as it is read */
    /* Measured: losses 0.94 and 0.42, test errors 0.17 and 0.146 (chance is
     * 0.9, and a model that learns nothing stays near a loss of 2.3). */
    assert_true(reference_loss[1] < reference_loss[0]);
    assert_true(reference_loss[0] < 1.5);
    assert_true(reference_error < 0.25);
}

/* Same seed and threads: the same losses, errors and weight files, byte for
 * byte; another seed: other weights. */
static void test_train_reproducible(void **state)
{
    (void)state;
    const int seeds[3] = {1, 1, 2};
    char paths[3][256], *texts[3][2];
    for (int run_index = 0; run_index < 3; run_index++) {
        snprintf(paths[run_index], sizeof paths[0], "%s/seed%d-%d.safetensors", tmp_dir, seeds[run_index],
                 run_index);
        cJSON *epochs[2];
        train_json(seeds[run_index], paths[run_index], epochs);
        for (int e = 0; e < 2; e++) {
            cJSON_DeleteItemFromObjectCaseSensitive(epochs[e], "seconds");
            texts[run_index][e] = cJSON_PrintUnformatted(epochs[e]);
            assert_non_null(texts[run_index][e]);
            cJSON_Delete(epochs[e]);
        }
    }
    for (int e = 0; e < 2; e++) {
        assert_string_equal(texts[0][e], texts[1][e]);
        assert_string_not_equal(texts[0][e], texts[2][e]);
    }
    size_t sizes[3];
    char *weights[3];
    for (int i = 0; i < 3; i++) {
        weights[i] = read_file(paths[i], &sizes[i]);
        assert_non_null(weights[i]);
    }
    assert_true(sizes[0] == sizes[1] && memcmp(weights[0], weights[1], sizes[0]) == 0);
    assert_true(sizes[0] == sizes[2] && memcmp(weights[0], weights[2], sizes[0]) != 0);
    for (int i = 0; i < 3; i++) {
        free(weights[i]);
        for (int e = 0; e < 2; e++)
            cJSON_free(texts[i][e]);
    }
}

/* Without --json: a header, one human line per epoch that agrees with the
 * JSON run, and no progress bar when stderr is not a terminal. */
static void test_train_human(void **state)
{
    (void)state;
    trained_weights(); /* for reference_error */
    run_result r = run(TRAIN_ARGS " --seed 1 --save '%s'", tmp_path("human.safetensors"));
    assert_success(&r, "train");
    char *lines[8];
    int n = split_lines(r.out, lines, 8);
    int epoch_lines = 0;
    double error_percent = -1;
    for (int i = 0; i < n; i++) {
        int epoch;
        double loss, error, seconds;
        if (sscanf(lines[i], "epoch %d train loss %lf test error %lf%% %lf s", &epoch, &loss, &error, &seconds) ==
            4) {
            assert_int_equal(epoch, ++epoch_lines);
            assert_true(loss > 0 && seconds >= 0);
            error_percent = error;
        }
    }
    if (n != 4 || epoch_lines != 2 || !strstr(lines[0], "training") || !strstr(lines[3], "saved the weights to")) {
        print_error("unexpected output of train (%d lines, %d epoch lines)\n", n, epoch_lines);
        fail();
    }
    assert_true(fabs(error_percent - 100 * reference_error) < 0.006); /* printed with 2 decimals */
    run_free(&r);
}

/* On a terminal, train draws a progress bar on standard error. The command
 * runs with its stderr on a pseudo-terminal; skipped where there is none. */
static void test_train_progress_bar(void **state)
{
    (void)state;
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    if (master < 0)
        skip();
    const char *slave_name = NULL;
    if (grantpt(master) != 0 || unlockpt(master) != 0 || !(slave_name = ptsname(master))) {
        close(master);
        skip();
    }
    int slave = open(slave_name, O_RDWR | O_NOCTTY);
    int out = open(tmp_path("bar-stdout.txt"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(slave >= 0 && out >= 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(out, STDOUT_FILENO);
        dup2(slave, STDERR_FILENO);
        close(master);
        execl(PF_PROFOND_BIN, "profond", "train", "--model", LINEAR, "--data", "tiny", "--epochs", "1",
              "--threads", "2", (char *)NULL);
        _exit(127);
    }
    /* The parent keeps no end of the terminal but the master: once the child
     * exits, reading it ends (EIO). */
    close(slave);
    close(out);
    char bar[8192];
    size_t n = 0;
    ssize_t got;
    while (n < sizeof bar - 1 && ((got = read(master, bar + n, sizeof bar - 1 - n)) > 0 || (got < 0 && errno == EINTR)))
        n += got > 0 ? (size_t)got : 0;
    bar[n] = '\0';
    close(master);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    /* 2000 images in batches of 100: the bar ends at 20/20. */
    if (!strstr(bar, "epoch 1 [") || !strstr(bar, "20/20") || !strstr(bar, "loss")) {
        print_error("no progress bar on the terminal; it got:\n%s\n", bar);
        fail();
    }
    char *stdout_text = read_file(tmp_path("bar-stdout.txt"), NULL);
    assert_non_null(stdout_text);
    assert_non_null(strstr(stdout_text, "test error"));
    assert_null(strchr(stdout_text, '\r')); /* the bar stays off stdout */
    free(stdout_text);
}

/* eval on the saved weights gives the last epoch's test error, exactly. */
static void test_eval(void **state)
{
    (void)state;
    const char *weights = trained_weights();
    run_result r = run("eval --weights '%s' --model '" LINEAR "' --data tiny --threads 2 --json", weights);
    assert_success(&r, "eval --json");
    assert_int_equal(count_lines(r.out), 1);
    cJSON *o = cJSON_Parse(r.out);
    assert_non_null(o);
    cJSON *error = cJSON_GetObjectItemCaseSensitive(o, "test_error");
    cJSON *examples = cJSON_GetObjectItemCaseSensitive(o, "examples");
    assert_true(cJSON_IsNumber(error) && cJSON_IsNumber(examples));
    assert_true(error->valuedouble == reference_error);
    assert_int_equal((int)examples->valuedouble, TEST_COUNT);
    cJSON_Delete(o);
    run_free(&r);

    /* The same without --json, with the folder given as a path. */
    r = run("eval --weights '%s' --model '" LINEAR "' --data '%s' --threads 2", weights, tmp_path("tiny"));
    assert_success(&r, "eval");
    double percent;
    const char *at = strstr(r.out, "test error");
    assert_non_null(at);
    assert_int_equal(sscanf(at, "test error %lf%%", &percent), 1);
    assert_true(fabs(percent - 100 * reference_error) < 0.006);
    assert_non_null(strstr(r.out, "500 images"));
    run_free(&r);
}

/* predict writes what pf_forward computes in this process from the same
 * weights. */
static void test_predict(void **state)
{
    pf_ctx *ctx = *state;
    const char *weights = trained_weights();
    pf_manual_seed(7);
    pf_tensor *x = pf_randn(ctx, PF_DIMS(7, 1, 28, 28));
    PF_CHECK(pf_safetensors_save(tmp_path("input.safetensors"), 1, &(pf_named_tensor){"input", x}));
    run_result r = run("predict --weights '%s' --model '" LINEAR "' --input '%s' --output '%s' --threads 2", weights,
                       tmp_path("input.safetensors"), tmp_path("output.safetensors"));
    assert_success(&r, "predict");
    assert_string_equal(r.out, "");
    run_free(&r);

    pf_named_tensor *outputs;
    int n = pf_safetensors_load(ctx, tmp_path("output.safetensors"), &outputs);
    PF_CHECK(n == 1);
    pf_tensor *y = pf_named_find(outputs, n, "output");
    PF_ASSERT_SHAPE(y, 7, 10);

    pf_set_num_threads(2);
    pf_module *model = pf_model_from_spec(ctx, LINEAR);
    PF_CHECK(model && pf_module_load(model, weights));
    pf_module_train(model, false);
    bool was = pf_set_grad_enabled(false);
    pf_tensor *expected = pf_forward(ctx, model, x);
    pf_set_grad_enabled(was);
    PF_ASSERT_CLOSE(y, expected, 0, 0); /* equal: same weights, same kernels, same threads */
    /* Not a tensor of constants: the outputs vary. */
    float values[70];
    PF_CHECK(pf_copy_to_f32(expected, values));
    float low = values[0], high = values[0];
    for (int i = 1; i < 70; i++)
        low = fminf(low, values[i]), high = fmaxf(high, values[i]);
    assert_true(high - low > 1);
}

/* info lists the saved tensors with their dtypes and shapes. */
static void test_info(void **state)
{
    (void)state;
    run_result r = run("info '%s'", trained_weights());
    assert_success(&r, "info");
    char *lines[8];
    int n = split_lines(r.out, lines, 8);
    assert_int_equal(n, 3);
    /* "flatten linear(784,10)": the linear layer is layer 1 of the Sequential. */
    assert_true(strstr(lines[0], "1.weight") && strstr(lines[0], "float32") && strstr(lines[0], "[10,784]"));
    assert_true(strstr(lines[1], "1.bias") && strstr(lines[1], "float32") && strstr(lines[1], "[10]"));
    assert_true(strstr(lines[2], "2 tensors") && strstr(lines[2], "7850 elements"));
    run_free(&r);
}

/* Mistakes on the command line: one line, exit status 2 or 1. */
static void test_errors_command_line(void **state)
{
    (void)state;
    expect_error("unknown command", "frobnicate", "frobnicate");
    expect_error("unknown option", "--bogus", "train --bogus");
    expect_error("--epochs", "abc", "train --epochs abc");
    expect_error("--lr", "fast", "train --lr fast");
    expect_error("--epochs", "value", "train --epochs");
    expect_error("--epochs", NULL, "train --data tiny --epochs 0");
    expect_error("--batch", NULL, "train --data tiny --batch 0");
    expect_error("--lr", NULL, "train --data tiny --lr -1");
    expect_error("--threads", NULL, "train --data tiny --threads 100000");
    expect_error("--json", NULL, "train --json=yes");
    expect_error("unexpected argument", "extra", "train extra");
    expect_error("--weights", NULL, "eval --data tiny");
    expect_error("--threads", NULL, "eval --weights x --threads -1");
    expect_error("--input", NULL, "predict --weights x");
    expect_error("info", NULL, "info");
    expect_error("--threads", NULL, "lecture xor --threads 100000 --out '%s'", tmp_path("lecture"));
    expect_error("rmsprop", NULL, "train --model '" LINEAR "' --data tiny --optim rmsprop");
}

/* Mistakes in models: unknown layers, wrong shapes, nothing to train, an
 * exploding loss. */
static void test_errors_models(void **state)
{
    (void)state;
    expect_error("unknown layer", "foo", "train --model 'flatten foo(3)' --data tiny --epochs 1");
    expect_error("layer 2", NULL, "train --model 'flatten linear(784,10' --data tiny --epochs 1");
    /* The message names the layer whose input has the wrong shape. */
    expect_error("layer 1", "Linear", "train --model 'flatten linear(100,10)' --data tiny --epochs 1");
    expect_error("layer 2", "Linear", "train --model 'flatten linear(784,32) linear(64,10)' --data tiny --epochs 1");
    expect_error("Conv2d", NULL, "train --model 'conv2d(3,4,3) flatten linear(2704,10)' --data tiny --epochs 1");
    expect_error("parameters", NULL, "train --model flatten --data tiny --epochs 1");
    /* SGD at lr 1e30 makes the MLP's loss NaN at its second batch. */
    expect_error("loss became", "smaller --lr", "train --model mlp --data tiny --epochs 1 --lr 1e30 --threads 2");
}

/* Missing and damaged files. */
static void test_errors_files(void **state)
{
    pf_ctx *ctx = *state;
    const char *weights = trained_weights();
    expect_error("nowhere", NULL, "train --model '" LINEAR "' --data '%s' --epochs 1", tmp_path("nowhere"));
    expect_error("nowhere", NULL, "eval --weights '%s' --model '" LINEAR "' --data nowhere", weights);
    expect_error("train-images", "truncated", "train --model '" LINEAR "' --data damaged --epochs 1");

    /* Weights: missing, truncated, of another model. */
    expect_error("missing.safetensors", NULL, "eval --weights '%s' --model '" LINEAR "' --data tiny",
                 tmp_path("missing.safetensors"));
    size_t size;
    char *bytes = read_file(weights, &size);
    assert_non_null(bytes);
    assert_true(write_file(tmp_path("truncated.safetensors"), bytes, size / 2));
    free(bytes);
    expect_error("truncated.safetensors", NULL, "eval --weights '%s' --model '" LINEAR "' --data tiny",
                 tmp_path("truncated.safetensors"));
    expect_error("1.weight", "[256,784]", "eval --weights '%s' --model mlp --data tiny", weights);
    pf_tensor *other = pf_zeros(ctx, PF_DIMS(2, 784));
    PF_CHECK(pf_safetensors_save(tmp_path("other.safetensors"), 1, &(pf_named_tensor){"other", other}));
    expect_error("1.weight", NULL, "predict --weights '%s' --model mlp --input '%s' --output '%s'", weights,
                 tmp_path("other.safetensors"), tmp_path("never.safetensors"));

    /* Inputs of predict: no "input", the wrong dtype, the wrong shape. */
    expect_error("input", NULL, "predict --weights '%s' --model '" LINEAR "' --input '%s' --output '%s'", weights,
                 tmp_path("other.safetensors"), tmp_path("never.safetensors"));
    pf_tensor *labels = pf_randint(ctx, 0, 10, PF_DIMS(2, 784));
    PF_CHECK(pf_safetensors_save(tmp_path("int.safetensors"), 1, &(pf_named_tensor){"input", labels}));
    expect_error("float32", NULL, "predict --weights '%s' --model '" LINEAR "' --input '%s' --output '%s'", weights,
                 tmp_path("int.safetensors"), tmp_path("never.safetensors"));
    pf_tensor *small = pf_zeros(ctx, PF_DIMS(2, 1, 10, 10));
    PF_CHECK(pf_safetensors_save(tmp_path("small.safetensors"), 1, &(pf_named_tensor){"input", small}));
    expect_error("Linear", NULL, "predict --weights '%s' --model '" LINEAR "' --input '%s' --output '%s'", weights,
                 tmp_path("small.safetensors"), tmp_path("never.safetensors"));
    assert_int_equal(access(tmp_path("never.safetensors"), F_OK), -1); /* no output after an error */

    /* info on a file that is not safetensors, and on none. */
    const char *text = "These are notes, not tensors.\n";
    assert_true(write_file(tmp_path("notes.txt"), text, strlen(text)));
    expect_error("notes.txt", NULL, "info '%s'", tmp_path("notes.txt"));
    expect_error("missing.safetensors", NULL, "info '%s'", tmp_path("missing.safetensors"));
}

/* ---- setup ------------------------------------------------------------------- */

static int group_setup(void **state)
{
    (void)state;
    snprintf(tmp_dir, sizeof tmp_dir, "/tmp/pf_test_cli_XXXXXX");
    if (!mkdtemp(tmp_dir)) {
        perror("mkdtemp");
        return -1;
    }
    pf_ctx *ctx = pf_ctx_new(0);
    pf_dataset train, test;
    if (!pf_dataset_load(ctx, MNIST_DIR, true, &train) || !pf_dataset_load(ctx, MNIST_DIR, false, &test)) {
        fprintf(stderr, "cannot read MNIST: %s\n", pf_error());
        pf_ctx_free(ctx);
        return -1;
    }
    bool ok = write_data_folder("tiny", &train, &test, false) && write_data_folder("damaged", &train, &test, true);
    pf_ctx_free(ctx);
    if (!ok) {
        fprintf(stderr, "cannot write the data folders in %s\n", tmp_dir);
        return -1;
    }
    /* `--data tiny` names $PROFOND_DATA/tiny; the commands inherit this. */
    setenv("PROFOND_DATA", tmp_dir, 1);
    snprintf(out_path, sizeof out_path, "%s/stdout.txt", tmp_dir);
    snprintf(err_path, sizeof err_path, "%s/stderr.txt", tmp_dir);
    unsetenv("PF_THREADS");
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    remove_tree(tmp_dir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help),
        cmocka_unit_test(test_train_json),
        cmocka_unit_test(test_train_reproducible),
        cmocka_unit_test(test_train_human),
        cmocka_unit_test(test_train_progress_bar),
        cmocka_unit_test(test_eval),
        cmocka_unit_test_setup_teardown(test_predict, pf_test_setup, pf_test_teardown),
        cmocka_unit_test(test_info),
        cmocka_unit_test(test_errors_command_line),
        cmocka_unit_test(test_errors_models),
        cmocka_unit_test_setup_teardown(test_errors_files, pf_test_setup, pf_test_teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
