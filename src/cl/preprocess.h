/* SPDX-License-Identifier: Apache-2.0
 * The OpenCL side of mace_engine_set_input_frame: imports or uploads the
 * frame's planes and runs kernels/preprocess.cl into an input buffer. */
#ifndef MACE_CL_PREPROCESS_H
#define MACE_CL_PREPROCESS_H

#include <stdbool.h>
#include "cl/device.h"
#include "frame.h"

typedef struct MaceClPreprocess MaceClPreprocess;

MaceClPreprocess *mace_cl_preprocess_new (MaceClDevice *dev);
void mace_cl_preprocess_free (MaceClPreprocess *pre);
/* Whether the device reads host memory in place (integrated GPUs, CPU
 * drivers) rather than over a bus. */
bool mace_cl_preprocess_host_unified (const MaceClPreprocess *pre);
/* Enqueues the kernel writing dst (3 x mh x mw floats).  Host planes are
 * wrapped with CL_MEM_USE_HOST_PTR when the device shares host memory and
 * the pointer meets CL_DEVICE_MEM_BASE_ADDR_ALIGN, else uploaded (counted
 * in stats).  Host planes must stay valid until the queue is finished. */
MaceStatus mace_cl_preprocess_run (MaceClPreprocess *pre,
                                   const MaceFrame *frame,
                                   const MaceFramePlan *plan, cl_mem dst,
                                   MaceFrameStats *stats, MaceError *err);

#endif
