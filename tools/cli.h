/*
 * cli.h — what the `profond` command's files share: the option parser, the
 * subcommands, and the training and evaluation loops.
 */
#ifndef PF_CLI_H
#define PF_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include <profond.h>

/* ---- options ---- */

typedef enum { OPT_FLAG, OPT_INT, OPT_DOUBLE, OPT_STRING } cli_option_type;

typedef struct cli_option {
    const char *name;      /* "epochs" for --epochs */
    cli_option_type type;
    void *target;          /* bool*, int64_t*, double* or const char** */
    const char *metavar;   /* "N", "FILE" ... (NULL for flags) */
    const char *help;
} cli_option;

typedef struct cli_command {
    const char *name;
    const char *usage;     /* after "profond NAME " */
    const char *summary;
    const cli_option *options;  /* ends with a zeroed entry */
    int max_positional;
} cli_command;

/* Parses argv[1..] into the options' targets; positional arguments go to
 * positional[] (*n_positional of them). Returns 0 to go on, 1 when help
 * was printed (exit 0), -1 after printing an error (exit 2). */
int cli_parse(const cli_command *cmd, int argc, char **argv, const char **positional, int *n_positional);
void cli_print_help(const cli_command *cmd);
/* The largest --threads accepted: far more threads than that made OpenMP
 * crash (--threads 100000 ended in a segmentation fault). */
#define CLI_MAX_THREADS 1024

/* Prints "profond CMD: <pf_error()>" (or msg) to stderr; returns 1. */
int cli_fail(const char *cmd, const char *msg);

/* ---- subcommands (cmd_*.c) ---- */

int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_classify(int argc, char **argv);
int cmd_lecture(int argc, char **argv);

/* ---- training (training.c) ---- */

typedef struct epoch_report {
    int epoch;
    double train_loss;   /* mean over the epoch's batches */
    double test_error;   /* fraction of test examples misclassified */
    double seconds;      /* training time of the epoch (evaluation excluded) */
} epoch_report;

typedef struct train_config {
    const char *model;     /* SPEC */
    const char *data;      /* NAME or DIR */
    int64_t epochs, batch, seed, threads;
    const char *optim;     /* "sgd" or "adam" */
    double lr, momentum;
    const char *save;      /* NULL: do not save */
    bool json, quiet;
    bool profile;          /* print where each epoch's time went */
    /* Called after each epoch (may be NULL). */
    void (*on_epoch)(const epoch_report *r, void *user);
    void *user;
} train_config;

/* Trains as configured, printing a line per epoch. Returns 0, or 1 after
 * printing an error. */
int run_training(const char *cmd, const train_config *config);

/* Fraction of the dataset's examples the model misclassifies (evaluation
 * mode, no tape, batches of `batch`). Negative on error. */
double evaluate_error(pf_module *model, const pf_dataset *data, int64_t batch);

/* Seconds on a monotonic clock. */
double now_seconds(void);

#endif
