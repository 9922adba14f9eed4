/*
 * cmd_lecture.c — `profond lecture NAME|all [--out DIR]`: runs the lecture's
 * experiments (examples/lecture/), each writing its figures and results.json
 * into DIR/NAME; `all` runs them in lecture order and writes DIR/index.html.
 */
#include <stdio.h>
#include <string.h>

#include "lecture.h"
#include "cli.h"

/* Seconds that the experiments of `profond lecture all` that train may
 * train for (each stops before an epoch that would end past its budget,
 * and says so on the page; one epoch always runs). `make lecture` must end
 * within 5 minutes on a 2-core machine: these add up to 220 s, and the
 * rest of the lecture takes about 30 s (tsne and visualize train one small
 * network, two epochs, that they share). Measured on a 2-core Zen 5: mnist
 * runs its 10 epochs in 38 s, the autoencoders their 2 epochs each in 43 s,
 * the GAN 5 of its 20 epochs; `make lecture` took 3 min 30 s. */
static const struct {
    const char *name;
    double seconds;
} lecture_all_budgets[] = {{"mnist", 50}, {"autoencoder", 60}, {"gan", 110}};

static double lecture_all_budget(const char *name)
{
    for (size_t i = 0; i < sizeof lecture_all_budgets / sizeof *lecture_all_budgets; i++)
        if (strcmp(lecture_all_budgets[i].name, name) == 0)
            return lecture_all_budgets[i].seconds;
    return 0;
}

int cmd_lecture(int argc, char **argv)
{
    const char *out = "lecture-out", *data = "mnist";
    bool quick = false, list = false, retrain = false;
    int64_t epochs = 0, seed = 0, threads = 0;
    const cli_option options[] = {
        {"out", OPT_STRING, &out, "DIR", "where to write (default lecture-out)"},
        {"quick", OPT_FLAG, &quick, NULL, "small sizes and few epochs (tests, small machines)"},
        {"epochs", OPT_INT, &epochs, "N", "epochs of the experiments that train (default: their own)"},
        {"data", OPT_STRING, &data, "NAME|DIR", "data of the experiments on images (default mnist)"},
        {"seed", OPT_INT, &seed, "N", "seed (default 0)"},
        {"retrain", OPT_FLAG, &retrain, NULL, "train again the models an earlier run saved (autoencoder)"},
        {"threads", OPT_INT, &threads, "N", "threads (default: $PF_THREADS or all cores)"},
        {"list", OPT_FLAG, &list, NULL, "list the experiments"},
        {0},
    };
    const cli_command cmd = {"lecture", "NAME|all [OPTIONS]",
                             "Runs an experiment of the lecture (or all of them, then writes DIR/index.html).",
                             options, 1};
    const char *positional[1];
    int n;
    int parsed = cli_parse(&cmd, argc, argv, positional, &n);
    if (parsed)
        return parsed > 0 ? 0 : 2;
    if (list) {
        for (int i = 0; i < lecture_experiment_count; i++)
            printf("%-12s %s\n", lecture_experiments[i].name, lecture_experiments[i].section);
        return 0;
    }
    if (n != 1) {
        fprintf(stderr, "profond lecture: name an experiment or 'all' (see profond lecture --list)\n");
        return 2;
    }
    if (epochs < 0 || seed < 0 || threads < 0) {
        fprintf(stderr, "profond lecture: --epochs, --seed and --threads cannot be negative\n");
        return 2;
    }
    /* As in train, eval and predict: a huge count crashed OpenMP. */
    if (threads > CLI_MAX_THREADS) {
        fprintf(stderr, "profond lecture: --threads must be at most %d\n", CLI_MAX_THREADS);
        return 2;
    }
    if (threads > 0)
        pf_set_num_threads((int)threads);
    lecture_set_retrain(retrain);
    if (strcmp(positional[0], "all") == 0) {
        /* `make lecture` must end in a few minutes on a 2-core machine:
         * without --epochs, the experiments that train stop before an epoch
         * that would end past their budget, and say so. */
        int failed = 0;
        for (int i = 0; i < lecture_experiment_count; i++) {
            lecture_set_budget(epochs ? 0 : lecture_all_budget(lecture_experiments[i].name));
            if (lecture_run_experiment(&lecture_experiments[i], out, quick, (int)epochs, data,
                                       (unsigned long long)seed) != 0)
                failed++;
        }
        if (lecture_write_html(out) != 0)
            return 1;
        printf("wrote %s/index.html (%d experiments%s)\n", out, lecture_experiment_count - failed,
               failed ? ", some failed" : "");
        return failed ? 1 : 0;
    }
    const lecture_experiment *e = lecture_find(positional[0]);
    if (!e) {
        fprintf(stderr, "profond lecture: unknown experiment '%s' (see profond lecture --list)\n", positional[0]);
        return 2;
    }
    return lecture_run_experiment(e, out, quick, (int)epochs, data, (unsigned long long)seed);
}
