/*
 * lecture.c — the table of the lecture's experiments (in lecture order),
 * running one of them into its folder, and what experiments use to record
 * numbers, notes and figures into results.json.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lecture.h"

/* In lecture order. Each entry: name, section, the slide it reproduces
 * (quoted on the page), and its function. */
const lecture_experiment lecture_experiments[] = {
    {"losses", "Fonctions de perte",
     "Les deux fonctions de perte standards sont la \"mean square error\" pour la régression, "
     "L(w) = 1/(ND) Σ_n Σ_d (f_d(x_n; w) - y_{n,d})², et la \"cross entropy\" pour la classification, "
     "L(w) = 1/N Σ_n log(e^{f_{y_n}(x_n; w)} / Σ_y e^{f_y(x_n; w)}).",
     lecture_losses},
    {"activations", "Modèles linéaires",
     "Les fonctions d'activation classiques : la tangente hyperbolique tanh(x) = 2/(1+e^(-2x)) - 1 et la "
     "\"rectified linear unit\" (ReLU) max(0, x).",
     lecture_activations},
    {"separable", "Modèles linéaires",
     "Un perceptron x ↦ σ(wᵀx + b) ne peut évidemment représenter qu'une classe limitée de fonctions, et par "
     "exemple ne peut classer correctement que des populations linéairement séparables.",
     lecture_separable},
    {"xor", "\"ou exclusif\"",
     "Le \"ou exclusif\" peut être calculé en pré-traitant l'entrée pour rendre les données linéairement "
     "séparables : Φ : (x_u, x_v) ↦ (x_u, x_v, x_u x_v).",
     lecture_xor},
    {"approx", "Approximation universelle",
     "Il est possible d'approcher toute fonction continue sur un compact ψ : [0, 1]^D → R avec un réseau à une "
     "couche cachée x ↦ ω · σ(wx + b), où b ∈ R^K, w ∈ R^{K×D} et ω ∈ R^K.",
     lecture_approx},
    {"mlp", "MLP",
     "Un modèle de ce type est appelé un Multi-Layer Perceptron (MLP) : f = nn.Sequential(nn.Linear(3, 9), "
     "nn.ReLU(), nn.Linear(9, 2), nn.ReLU(), nn.Linear(2, 2)) ; for t in f.parameters(): print(t.size()).",
     lecture_mlp},
    {"conv1d", "Couches convolutionnelles",
     "Une convolution peut implémenter un opérateur différentiel, e.g. (0, 0, 0, 0, 1, 2, 3, 4, 4, 4, 4) ⊛ "
     "(-1, 1) = (0, 0, 0, 1, 1, 1, 1, 0, 0, 0), ou un simple détecteur de motif ; le même concept peut être "
     "généralisé à un signal 2d multi-canaux. Un modèle linéaire d'une image 256 × 256 couleur vers un signal "
     "similaire demanderait (256 × 256 × 3)² ≃ 3.87e+10 paramètres.",
     lecture_conv1d},
    {"descent", "Entraînement",
     "La descente de gradient w_{t+1} = w_t - η ∇L(w_t) \"suit la pente maximale\" ; elle mène [la plupart "
     "du temps] à un minimum local, qui dépend fortement de w_0 et η (η = 0.125, η = 0.5).",
     lecture_descent},
    {"autograd", "Différentiation automatique",
     "PyTorch enregistre dynamiquement les séquences de calculs tensoriels et permet de calculer n'importe "
     "quel gradient : t = torch.tensor([1., 2., 4.]).requires_grad_(); a = t.pow(2).sum(); "
     "torch.autograd.grad(a, (t,)) donne (tensor([2., 4., 8.]),). Puis h = tanh(w1 @ x + b1), "
     "y = tanh(w2 @ h + b2), loss = (y - target).pow(2).mean().",
     lecture_autograd},
    {"mnist", "MNIST",
     "model = nn.Sequential(nn.Conv2d(1, 32, 5), nn.ReLU(), nn.MaxPool2d(3), nn.Conv2d(32, 64, 5), nn.ReLU(), "
     "nn.MaxPool2d(2), Shape1D(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10)) ; "
     "criterion = nn.CrossEntropyLoss() ; optimizer = torch.optim.SGD(model.parameters(), lr = 1e-2) ; "
     "for e in range(10): for input, target in data_loader_iterator(train_loader): ... "
     "Temps d'apprentissage < 10 s, erreur ≃ 1 %.",
     lecture_mnist},
    {"classify", "pretrained AlexNet",
     "img = torchvision.transforms.ToTensor()(PIL.Image.open('blacklab.jpg')) ; "
     "img = 0.5 + 0.5 * (img - img.mean()) / img.std() ; "
     "alexnet = torchvision.models.alexnet(pretrained = True) ; alexnet.eval() ; output = alexnet(img) ; "
     "scores, indexes = output.data.view(-1).sort(descending = True) : #1 (12.26) Weimaraner, "
     "#2 (10.95) Chesapeake Bay retriever, #3 (10.87) Labrador retriever ...",
     lecture_classify},
    {"autoencoder", "Auto-encodeurs",
     "Un auto-encodeur combine un encodeur f depuis l'espace du signal X vers un espace latent F, et un "
     "décodeur g qui projette réciproquement vers X, de manière à ce que g ∘ f soit [proche de] l'identité sur "
     "les données. Un exemple simple d'auto-encodeur serait composé de deux modèles linéaires, auquel cas la "
     "solution est celle du PCA. De bien meilleurs résultats peuvent être obtenus avec des fonctions plus "
     "complexes comme des réseaux de neurones. X (exemples originaux), g ∘ f(X) (CNN, d = 2, 4, 8, 16, 32), "
     "g ∘ f(X) (PCA, d = 2, 4, 8, 16, 32). Pour avoir une intuition de la représentation latente, nous pouvons "
     "choisir deux exemples x et x' au hasard et interpoler linéairement dans l'espace latent : "
     "ξ(x, x', α) = g((1 − α) f(x) + α f(x')). Interpolation avec PCA (d = 32), avec un auto-encodeur (d = 8), "
     "(d = 32).",
     lecture_autoencoder},
    {"gan", "Modèles génératifs adverseriaux",
     "Une approche puissante pour apprendre un modèle génératif en grande dimension consiste à entraîner deux "
     "modèles avec des objectifs adverseriaux (Goodfellow et al., 2014) : un discriminateur D : X → [0, 1] "
     "pour prédire si un exemple est \"vrai\" ou \"faux\", et un générateur G : R^D → X pour transformer des "
     "échantillons d'une distribution fixe [une loi normale] en exemples qui trompent D. "
     "Images synthétisées après 1, 2, 5, 10 et 20 epochs [LSUN, chambres à coucher].",
     lecture_gan},
    {"tsne", "Compréhension des modèles",
     "L'algorithme t-SNE permet de visualiser en 2d des ensembles de points appartenant à des espaces de très "
     "grandes dimensions. Nous pouvons l'utiliser pour visualiser les encodages réalisés par les couches "
     "successives d'un réseau de neurones. Encodages de MNIST dans les couches d'un LeNet : Input, Layer #1, "
     "Layer #4, Layer #7, Layer #9.",
     lecture_tsne},
    {"visualize", "Compréhension des modèles",
     "Nombreuses techniques ont été développées pour analyser les grandeurs intermédiaires qui sont calculées "
     "dans un modèle. VGG16, rétro-propagation guidée (Zeiler and Fergus, 2014) ; VGG16, maximisation d'un "
     "canal de la 4ème couche convolutionnelle, d'un canal de la 7ème, d'une unité de la 13ème couche, d'une "
     "unité de la couche de sortie (\"King crab\", \"Samoyed\", \"Hourglass\", \"Paper towel\").",
     lecture_visualize},
};
const int lecture_experiment_count = (int)(sizeof lecture_experiments / sizeof *lecture_experiments);

const lecture_experiment *lecture_find(const char *name)
{
    for (int i = 0; i < lecture_experiment_count; i++)
        if (strcmp(lecture_experiments[i].name, name) == 0)
            return &lecture_experiments[i];
    return NULL;
}

const char *lecture_path(lecture_run *run, const char *file)
{
    snprintf(run->path, sizeof run->path, "%s/%s", run->dir, file);
    return run->path;
}

void lecture_number(lecture_run *run, const char *key, double value)
{
    cJSON_DeleteItemFromObject(run->numbers, key);
    cJSON_AddNumberToObject(run->numbers, key, value);
}

void lecture_text(lecture_run *run, const char *key, const char *value)
{
    cJSON_DeleteItemFromObject(run->numbers, key);
    cJSON_AddStringToObject(run->numbers, key, value);
}

void lecture_series(lecture_run *run, const char *key, int n, const double *values)
{
    cJSON_DeleteItemFromObject(run->numbers, key);
    cJSON_AddItemToObject(run->numbers, key, cJSON_CreateDoubleArray(values, n));
}

void lecture_figure(lecture_run *run, const char *file, const char *caption)
{
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "file", file);
    cJSON_AddStringToObject(f, "caption", caption);
    cJSON_AddItemToArray(run->figures, f);
}

void lecture_note(lecture_run *run, const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    cJSON_AddItemToArray(run->notes, cJSON_CreateString(text));
}

int lecture_fail(lecture_run *run, const char *what)
{
    const char *err = pf_error();
    fprintf(stderr, "lecture %s: %s%s%s\n", run->name, what ? what : "", what && err ? ": " : "", err ? err : "");
    return 1;
}

static bool make_dir(const char *path)
{
    if (mkdir(path, 0777) == 0 || errno == EEXIST)
        return true;
    fprintf(stderr, "lecture: cannot create %s: %s\n", path, strerror(errno));
    return false;
}

/* Writes text to path atomically (temporary file, then rename). */
static bool write_file(const char *path, const char *text)
{
    char tmp[1200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        fprintf(stderr, "lecture: cannot write %s\n", tmp);
        return false;
    }
    bool ok = fputs(text, f) >= 0;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        remove(tmp);
        fprintf(stderr, "lecture: cannot write %s\n", path);
        return false;
    }
    return true;
}

static double budget_seconds;

void lecture_set_budget(double seconds) { budget_seconds = seconds > 0 ? seconds : 0; }

static bool retrain_models;

void lecture_set_retrain(bool retrain) { retrain_models = retrain; }

int lecture_run_experiment(const lecture_experiment *e, const char *out, bool quick, int epochs, const char *data,
                           unsigned long long seed)
{
    lecture_run run = {.name = e->name, .quick = quick, .epochs = epochs, .data = data ? data : "mnist",
                       .seed = seed, .budget = budget_seconds, .retrain = retrain_models};
    if (!make_dir(out))
        return 1;
    if (snprintf(run.dir, sizeof run.dir, "%s/%s", out, e->name) >= (int)sizeof run.dir) {
        fprintf(stderr, "lecture: output folder name too long\n");
        return 1;
    }
    if (!make_dir(run.dir))
        return 1;
    run.results = cJSON_CreateObject();
    cJSON_AddStringToObject(run.results, "name", e->name);
    cJSON_AddStringToObject(run.results, "section", e->section);
    cJSON_AddStringToObject(run.results, "slide", e->slide);
    cJSON_AddBoolToObject(run.results, "quick", quick);
    run.numbers = cJSON_AddObjectToObject(run.results, "numbers");
    run.figures = cJSON_AddArrayToObject(run.results, "figures");
    run.notes = cJSON_AddArrayToObject(run.results, "notes");

    pf_error_clear();
    pf_manual_seed(seed);
    printf("== %s (%s)\n", e->name, e->section);
    fflush(stdout);
    int status = e->run(&run);
    if (status == 0) {
        char *text = cJSON_Print(run.results);
        status = text && write_file(lecture_path(&run, "results.json"), text) ? 0 : 1;
        cJSON_free(text);
    }
    cJSON_Delete(run.results);
    return status;
}
