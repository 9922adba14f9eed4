/*
 * model_file.c — saving and loading a module's state (parameters and
 * buffers) as safetensors with state_dict names; loading also reads
 * PyTorch's .pth files (pf_weights_load tells them by their content).
 *
 * Loading is all or nothing: every tensor of the model must be in the file
 * with the same dtype and shape, and the file may hold nothing else; all of
 * that is checked before a single value is copied, so a bad file leaves the
 * model as it was.
 */
#include <stdio.h>
#include <string.h>

#include "nn/module.h"

bool pf_module_save(pf_module *m, const char *path)
{
    pf_named_tensor *state;
    int n = pf_module_state(m, &state);
    if (n < 0)
        return false;
    if (!path)
        return pf_fail("pf_module_save: NULL path"), false;
    return pf_safetensors_save(path, n, state);
}

static bool check_file(const char *path, const pf_named_tensor *state, int n, const pf_named_tensor *file, int nf)
{
    for (int i = 0; i < n; i++) {
        pf_tensor *want = state[i].tensor, *got = pf_named_find(file, nf, state[i].name);
        if (!got) {
            pf_fail("pf_module_load: %s: missing tensor '%s' (the model has %d tensors, the file %d)", path,
                    state[i].name, n, nf);
            return false;
        }
        if (got->dtype != want->dtype || !pf_same_shape(got, want)) {
            char a[128], b[128];
            pf_fail("pf_module_load: %s: tensor '%s' is %s %s in the file but the model expects %s %s", path,
                    state[i].name, pf_dtype_name(got->dtype), pf_shape_str(got, a, sizeof a),
                    pf_dtype_name(want->dtype), pf_shape_str(want, b, sizeof b));
            return false;
        }
    }
    for (int j = 0; j < nf; j++) {
        bool known = false;
        for (int i = 0; i < n && !known; i++)
            known = strcmp(file[j].name, state[i].name) == 0;
        if (!known) {
            pf_fail("pf_module_load: %s: unexpected tensor '%s' (not part of this model)", path, file[j].name);
            return false;
        }
    }
    return true;
}

bool pf_module_load(pf_module *m, const char *path)
{
    pf_named_tensor *state;
    int n = pf_module_state(m, &state);
    if (n < 0)
        return false;
    if (!path)
        return pf_fail("pf_module_load: NULL path"), false;
    pf_ctx *tmp = pf_ctx_new(0);
    if (!tmp)
        return false;
    pf_named_tensor *file;
    int nf = pf_weights_load(tmp, path, &file);
    bool ok = nf >= 0 && check_file(path, state, n, file, nf);
    for (int i = 0; ok && i < n; i++)
        ok = pf_copy_(state[i].tensor, pf_named_find(file, nf, state[i].name));
    pf_ctx_free(tmp);
    return ok;
}
