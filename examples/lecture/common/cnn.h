/*
 * cnn.h — the lecture's convolutional network trained on MNIST, for the
 * experiments that look inside a trained network (tsne, visualize).
 *
 * The network is pf_model_from_spec's "lecture-cnn", the slide's LeNet:
 *
 *   (0) Conv2d(1, 32, 5)  (1) ReLU  (2) MaxPool2d(3)
 *   (3) Conv2d(32, 64, 5) (4) ReLU  (5) MaxPool2d(2)
 *   (6) Flatten  (7) Linear(256, 200)  (8) ReLU  (9) Linear(200, 10)
 *
 * trained by SGD with momentum (lr 0.01, momentum 0.9, batches of 100
 * shuffled digits) — the mnist experiment's loop with momentum, which gets
 * to about 1% error in two epochs. Training is done once per output folder:
 * the weights go to OUT/models/lecture-cnn-DATA-eEPOCHS-sSEED[-quick].safetensors
 * and a later experiment of the same folder with the same settings loads
 * them instead of training again (run->retrain, `--retrain`, trains again).
 */
#ifndef PF_LECTURE_CNN_H
#define PF_LECTURE_CNN_H

#include <stdbool.h>

#include "lecture.h"

typedef struct lecture_cnn {
    pf_module *model;       /* in evaluation mode */
    pf_dataset train, test; /* run->data's two splits */
    int epochs;             /* epochs it was trained for */
    int64_t train_count;    /* training digits it saw per epoch */
    double test_error;      /* on all the test digits, in [0, 1] */
    double seconds;         /* training time (0 if reused) */
    bool reused;            /* loaded from an earlier experiment's file */
    char file[256];         /* the weights' file, relative to OUT */
} lecture_cnn;

/* Loads run->data into ctx and gets the trained network (in ctx too).
 * Epochs: run->epochs, else 2 (quick: 1 epoch on the first 10,000 training
 * digits). Prints what it does; false after printing why it failed. */
bool lecture_cnn_get(lecture_run *run, pf_ctx *ctx, lecture_cnn *out);

/* The network's answers for the images [B, 1, H, W] (already normalised),
 * without recording gradients; into answers (B values). */
bool lecture_cnn_predict(pf_module *model, pf_tensor *images, int64_t *answers);

/* The first n test digits, normalised as the loader does: [n, 1, H, W]
 * float32 in ctx, and their labels [n]. */
bool lecture_cnn_test_batch(pf_ctx *ctx, const pf_dataset *test, int64_t n, pf_tensor **images,
                            pf_tensor **labels);

#endif
