/* SPDX-License-Identifier: Apache-2.0
 * Frames into model inputs on the device (kernels/preprocess.cl).  Where
 * the frame's bytes come from decides the copies: a cl_mem is read in
 * place, a host plane the device can address is wrapped
 * (CL_MEM_USE_HOST_PTR), anything else is uploaded once into a staging
 * buffer kept between frames. */
#include <string.h>

#include <glib.h>

#include "cl/preprocess.h"

struct MaceClPreprocess {
  MaceClDevice *dev;
  cl_kernel kernel;
  bool host_unified;
  size_t align; /* bytes */
  cl_mem staging[MACE_FRAME_MAX_PLANES];
  size_t staging_size[MACE_FRAME_MAX_PLANES];
};

MaceClPreprocess *
mace_cl_preprocess_new (MaceClDevice *dev)
{
  MaceClPreprocess *pre = g_new0 (MaceClPreprocess, 1);
  pre->dev = dev;
  cl_bool unified = CL_FALSE;
  cl_uint align_bits = 0;
  if (clGetDeviceInfo (dev->device, CL_DEVICE_HOST_UNIFIED_MEMORY,
                       sizeof unified, &unified, NULL)
      == CL_SUCCESS)
    pre->host_unified = unified == CL_TRUE;
  /* MACE_CL_HOST_UNIFIED=0 treats the device as discrete (frames are not
   * imported, large ones are sampled on the host): the paths of a
   * discrete GPU, testable on PoCL. */
  const char *hu = g_getenv ("MACE_CL_HOST_UNIFIED");
  if (hu && (hu[0] == '0' || hu[0] == '1'))
    pre->host_unified = hu[0] == '1';
  if (clGetDeviceInfo (dev->device, CL_DEVICE_MEM_BASE_ADDR_ALIGN,
                       sizeof align_bits, &align_bits, NULL)
          != CL_SUCCESS
      || align_bits < 8)
    align_bits = 1024;
  pre->align = align_bits / 8;
  return pre;
}

void
mace_cl_preprocess_free (MaceClPreprocess *pre)
{
  if (!pre)
    return;
  if (pre->kernel)
    clReleaseKernel (pre->kernel);
  for (int p = 0; p < MACE_FRAME_MAX_PLANES; p++)
    if (pre->staging[p])
      clReleaseMemObject (pre->staging[p]);
  g_free (pre);
}

static MaceStatus
cl_fail (MaceError *err, cl_int rc, const char *what)
{
  mace_set_error (err, MACE_ERROR_BACKEND, "OpenCL preprocess: %s failed: %s",
                  what, mace_cl_error_string (rc));
  return MACE_ERROR_BACKEND;
}

bool
mace_cl_preprocess_host_unified (const MaceClPreprocess *pre)
{
  return pre->host_unified;
}

MaceStatus
mace_cl_preprocess_run (MaceClPreprocess *pre, const MaceFrame *f,
                        const MaceFramePlan *plan, cl_mem dst,
                        MaceFrameStats *stats, MaceError *err)
{
  MaceClDevice *dev = pre->dev;
  cl_int rc = CL_SUCCESS;
  if (!pre->kernel) {
    pre->kernel = mace_cl_device_kernel (dev, "preprocess", "preprocess", err);
    if (!pre->kernel)
      return err ? err->status : MACE_ERROR_BACKEND;
  }
  int n = mace_frame_n_planes (f->format);
  cl_mem mem[MACE_FRAME_MAX_PLANES] = { 0 };
  cl_mem temp[MACE_FRAME_MAX_PLANES] = { 0 };
  int off[MACE_FRAME_MAX_PLANES] = { 0 };
  bool uploaded = false, imported = false, device = false;
  size_t upload_bytes = 0;
  MaceStatus st = MACE_OK;
  for (int p = 0; p < n && st == MACE_OK; p++) {
    size_t bytes = mace_frame_plane_bytes (f, p);
    if (f->cl_mem[p]) {
      mem[p] = (cl_mem)f->cl_mem[p];
      off[p] = (int)f->offset[p];
      device = true;
      continue;
    }
    if (pre->host_unified && ((uintptr_t)f->data[p] % pre->align) == 0) {
      temp[p] = clCreateBuffer (dev->context,
                                CL_MEM_READ_ONLY | CL_MEM_USE_HOST_PTR, bytes,
                                (void *)f->data[p], &rc);
      if (temp[p]) {
        mem[p] = temp[p];
        imported = true;
        continue;
      }
    }
    if (pre->staging_size[p] < bytes) {
      if (pre->staging[p])
        clReleaseMemObject (pre->staging[p]);
      pre->staging[p]
          = clCreateBuffer (dev->context, CL_MEM_READ_ONLY, bytes, NULL, &rc);
      pre->staging_size[p] = pre->staging[p] ? bytes : 0;
      if (!pre->staging[p]) {
        st = cl_fail (err, rc, "allocating the frame staging buffer");
        break;
      }
    }
    /* Blocking: the caller's pointer may not outlive this call. */
    rc = clEnqueueWriteBuffer (dev->queue, pre->staging[p], CL_TRUE, 0, bytes,
                               f->data[p], 0, NULL, NULL);
    if (rc != CL_SUCCESS) {
      st = cl_fail (err, rc, "uploading the frame");
      break;
    }
    mem[p] = pre->staging[p];
    uploaded = true;
    upload_bytes += bytes;
  }
  if (st == MACE_OK) {
    for (int p = n; p < MACE_FRAME_MAX_PLANES; p++)
      mem[p] = mem[0];
    cl_kernel k = pre->kernel;
    cl_uint a = 0;
    const cl_int iargs1[] = { plan->format, plan->crop_x,
                              plan->crop_y, plan->crop_w,
                              plan->crop_h, plan->mw,
                              plan->mh,     plan->layout == MACE_TENSOR_NCHW,
                              plan->ix0,    plan->iy0,
                              plan->ix1,    plan->iy1 };
    const cl_float fargs1[] = { plan->cx, plan->cy, plan->fx, plan->fy };
    const cl_float fargs2[]
        = { plan->mean[0],  plan->mean[1],  plan->mean[2],
            plan->scale[0], plan->scale[1], plan->scale[2] };
    for (int p = 0; p < MACE_FRAME_MAX_PLANES; p++) {
      cl_int o = off[p], s = p < n ? f->stride[p] : f->stride[0];
      rc |= clSetKernelArg (k, a++, sizeof (cl_mem), &mem[p]);
      rc |= clSetKernelArg (k, a++, sizeof o, &o);
      rc |= clSetKernelArg (k, a++, sizeof s, &s);
    }
    for (size_t i = 0; i < G_N_ELEMENTS (iargs1); i++)
      rc |= clSetKernelArg (k, a++, sizeof (cl_int), &iargs1[i]);
    for (size_t i = 0; i < G_N_ELEMENTS (fargs1); i++)
      rc |= clSetKernelArg (k, a++, sizeof (cl_float), &fargs1[i]);
    for (int i = 0; i < 3; i++) {
      cl_int c = plan->ci[i];
      rc |= clSetKernelArg (k, a++, sizeof c, &c);
    }
    for (size_t i = 0; i < G_N_ELEMENTS (fargs2); i++)
      rc |= clSetKernelArg (k, a++, sizeof (cl_float), &fargs2[i]);
    cl_int zero = 0;
    rc |= clSetKernelArg (k, a++, sizeof (cl_mem), &dst);
    rc |= clSetKernelArg (k, a++, sizeof zero, &zero);
    if (rc != CL_SUCCESS) {
      st = cl_fail (err, rc, "setting the kernel arguments");
    } else {
      size_t gws[2] = { (size_t)plan->mw, (size_t)plan->mh };
      rc = clEnqueueNDRangeKernel (dev->queue, k, 2, NULL, gws, NULL, 0, NULL,
                                   NULL);
      if (rc != CL_SUCCESS)
        st = cl_fail (err, rc, "enqueueing the kernel");
    }
  }
  /* Released objects live until the kernel that uses them completes. */
  for (int p = 0; p < MACE_FRAME_MAX_PLANES; p++)
    if (temp[p])
      clReleaseMemObject (temp[p]);
  if (st != MACE_OK)
    return st;
  if (uploaded) {
    stats->copies++;
    stats->bytes_copied += (int64_t)upload_bytes;
  }
  if (imported)
    stats->imported++;
  if (device)
    stats->device_frames++;
  stats->last_zero_copy = !uploaded;
  return MACE_OK;
}
