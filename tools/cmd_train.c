/*
 * cmd_train.c — `profond train`: trains a model on an MNIST-style dataset
 * and prints, after each epoch, the mean training loss, the test error and
 * the time the epoch took.
 */
#include <math.h>

#include "cli.h"

int cmd_train(int argc, char **argv)
{
    train_config c = {.model = "lecture-cnn", .data = "mnist", .epochs = 10, .batch = 100, .seed = 0,
                      .optim = "sgd", .lr = NAN, .momentum = 0};
    bool json = false;
    const char *save = NULL;
    const cli_option options[] = {
        {"model", OPT_STRING, &c.model, "SPEC", "lecture-cnn (default), mlp, or layers: \"conv2d(1,8,3) relu ...\""},
        {"data", OPT_STRING, &c.data, "NAME|DIR", "mnist (default), fashion-mnist, or a folder of IDX files"},
        {"epochs", OPT_INT, &c.epochs, "N", "passes over the training set (default 10)"},
        {"batch", OPT_INT, &c.batch, "N", "batch size (default 100)"},
        {"optim", OPT_STRING, &c.optim, "NAME", "sgd (default) or adam"},
        {"lr", OPT_DOUBLE, &c.lr, "X", "learning rate (default 0.01 for sgd, 0.001 for adam)"},
        {"momentum", OPT_DOUBLE, &c.momentum, "X", "SGD momentum, or Adam's beta1 (default 0 / 0.9)"},
        {"threads", OPT_INT, &c.threads, "N", "threads (default: $PF_THREADS or all cores)"},
        {"seed", OPT_INT, &c.seed, "N", "seed of the initialisation and shuffling (default 0)"},
        {"save", OPT_STRING, &save, "FILE", "write the trained weights (safetensors)"},
        {"json", OPT_FLAG, &json, NULL, "one JSON object per epoch on standard output"},
        {"profile", OPT_FLAG, &c.profile, NULL, "after each epoch, where its time went (per layer and op)"},
        {0},
    };
    const cli_command cmd = {"train", "[OPTIONS]",
                             "Trains a model with cross-entropy and prints, after each epoch, the mean training\n"
                             "loss, the test error and the seconds the epoch took.",
                             options, 0};
    const char *positional[1];
    int n;
    int parsed = cli_parse(&cmd, argc, argv, positional, &n);
    if (parsed)
        return parsed > 0 ? 0 : 2;
    /* NAN marks "not given" (the parser refuses non-finite values): a sentinel
     * of -1 made `--lr -1` silently train with the default rate. */
    if (isnan(c.lr))
        c.lr = c.optim[0] == 'a' ? 1e-3 : 1e-2;
    c.json = json;
    c.save = save;
    return run_training("train", &c);
}
