/* SPDX-License-Identifier: Apache-2.0
 * GstMemory backed by an OpenCL buffer (CL_MEM_ALLOC_HOST_PTR): upstream
 * writers map it (clEnqueueMapBuffer), macefilter hands the cl_mem to the
 * preprocess kernel without a copy. */
#ifndef GST_MACE_CL_MEMORY_H
#define GST_MACE_CL_MEMORY_H

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_MACE_CL_MEMORY_TYPE "MaceClMemory"

#define GST_TYPE_MACE_CL_ALLOCATOR (gst_mace_cl_allocator_get_type ())
G_DECLARE_FINAL_TYPE (GstMaceClAllocator, gst_mace_cl_allocator, GST,
                      MACE_CL_ALLOCATOR, GstAllocator)

/* An allocator of buffers in `context` (a cl_context) for `device` (a
 * cl_device_id); it keeps its own reference and command queue.  NULL
 * when the queue cannot be made. */
GstAllocator *gst_mace_cl_allocator_new (void *context, void *device);
/* Whether mem is a MaceClMemory of a cl_context. */
gboolean gst_is_mace_cl_memory (GstMemory *mem, void *context);
/* The cl_mem of mem (borrowed); *offset is where mem's bytes start in it. */
void *gst_mace_cl_memory_get_buffer (GstMemory *mem, gsize *offset);

G_END_DECLS

#endif
