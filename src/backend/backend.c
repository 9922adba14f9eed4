/*
 * backend.c — finding the backend of a device, and the kernel view of a
 * tensor.
 */
#include "backend/backend.h"

const pf_backend *pf_backend_get(pf_device device)
{
    if (device == PF_CPU)
        return &pf_cpu_backend;
    pf_fail("profond: device %d has no backend in this build (the CUDA backend is not built)", (int)device);
    return NULL;
}

pf_kview pf_kview_of(const pf_tensor *t)
{
    pf_kview v;
    v.data = (char *)t->storage->data + (size_t)t->offset * pf_dtype_size(t->dtype);
    v.dtype = t->dtype;
    v.ndim = t->ndim;
    for (int i = 0; i < t->ndim; i++) {
        v.shape[i] = t->shape[i];
        v.stride[i] = t->stride[i];
    }
    return v;
}
