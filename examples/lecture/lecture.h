/*
 * lecture.h — what the lecture's experiments share.
 *
 * Each experiment of ../shared/LECTURE.md is one file here holding one
 * function, int lecture_NAME(lecture_run *run), that does what the slide
 * does and leaves its figures (PNG) and numbers in run->dir. `profond
 * lecture NAME` and the standalone programs build/examples/lecture_NAME
 * both call it; `profond lecture all` runs every experiment in lecture order
 * and writes one HTML page.
 *
 * An experiment records:
 *   lecture_number / lecture_text / lecture_series   numbers for results.json
 *   lecture_figure                                   a PNG and its caption
 *   lecture_note                                     a sentence for the page
 * and prints what a student would want to see on the terminal.
 */
#ifndef PF_LECTURE_H
#define PF_LECTURE_H

#include <stdbool.h>
#include <stdio.h>

#include <cjson/cJSON.h>
#include <profond.h>

#define LECTURE_MAX_FIGURES 32

typedef struct lecture_run {
    const char *name;       /* the experiment's name */
    char dir[1024];         /* OUT/NAME, created before the experiment runs */
    bool quick;             /* small sizes: for tests and for `make lecture` on small machines */
    int epochs;             /* 0: the experiment's own default */
    const char *data;       /* data NAME or DIR for the experiments on images (default "mnist") */
    unsigned long long seed;
    double budget;          /* seconds an experiment that trains may take (0: no limit); see lecture_set_budget */
    bool retrain;           /* train again the models an earlier run saved (autoencoder, cnn.h); see lecture_set_retrain */
    cJSON *results;         /* what results.json will hold */
    cJSON *numbers;         /* results["numbers"] */
    cJSON *figures;         /* results["figures"]: [{"file", "caption"}] */
    cJSON *notes;           /* results["notes"]: sentences for the page */
    char path[1100];        /* scratch for lecture_path */
} lecture_run;

typedef struct lecture_experiment {
    const char *name;       /* "losses" */
    const char *section;    /* the lecture's section title, in French */
    const char *slide;      /* what the slide says or shows, quoted on the page */
    int (*run)(lecture_run *run);  /* 0 on success; on failure prints why */
} lecture_experiment;

/* The experiments, in lecture order. */
extern const lecture_experiment lecture_experiments[];
extern const int lecture_experiment_count;
const lecture_experiment *lecture_find(const char *name);

/* Runs one experiment into OUT/NAME (created), then writes its
 * results.json. Returns 0 on success. */
int lecture_run_experiment(const lecture_experiment *e, const char *out, bool quick, int epochs, const char *data,
                           unsigned long long seed);
/* The time budget given to the experiments run after this call (seconds,
 * 0: none). `profond lecture all` sets one so that `make lecture` ends in a
 * few minutes on a small machine: an experiment that trains for several
 * epochs (mnist) stops before an epoch that would end past it, and says so. */
void lecture_set_budget(double seconds);
/* Whether the experiments run after this call train again the models that
 * an earlier run saved into their folder (`--retrain`), instead of loading
 * them (default: load; the autoencoders). */
void lecture_set_retrain(bool retrain);
/* Writes OUT/index.html from the results.json of every experiment present
 * under OUT. Returns 0 on success. */
int lecture_write_html(const char *out);

/* DIR/NAME/file (valid until the next call). */
const char *lecture_path(lecture_run *run, const char *file);
void lecture_number(lecture_run *run, const char *key, double value);
void lecture_text(lecture_run *run, const char *key, const char *value);
void lecture_series(lecture_run *run, const char *key, int n, const double *values);
void lecture_figure(lecture_run *run, const char *file, const char *caption);
void lecture_note(lecture_run *run, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Prints "NAME: <pf_error()>" to stderr and returns 1. */
int lecture_fail(lecture_run *run, const char *what);

/* ---- the experiments (one file each) ---- */
int lecture_losses(lecture_run *run);
int lecture_activations(lecture_run *run);
int lecture_separable(lecture_run *run);
int lecture_xor(lecture_run *run);
int lecture_approx(lecture_run *run);
int lecture_mlp(lecture_run *run);
int lecture_conv1d(lecture_run *run);
int lecture_descent(lecture_run *run);
int lecture_autograd(lecture_run *run);
int lecture_mnist(lecture_run *run);
int lecture_autoencoder(lecture_run *run);
int lecture_gan(lecture_run *run);
int lecture_tsne(lecture_run *run);
int lecture_visualize(lecture_run *run);
int lecture_classify(lecture_run *run);

#endif
