/* SPDX-License-Identifier: Apache-2.0
 * OpenCL-backed GstMemory.  Every memory (and every share of one) maps the
 * whole buffer from byte 0; GStreamer adds the memory's offset.  Maps nest:
 * the buffer is mapped on the first map and unmapped, with the queue
 * finished, on the last unmap, so a kernel enqueued afterwards sees the
 * writes. */
#include "gstmaceclmemory.h"

#include <string.h>

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>

GST_DEBUG_CATEGORY_STATIC (mace_cl_memory_debug);
#define GST_CAT_DEFAULT mace_cl_memory_debug

struct _GstMaceClAllocator {
  GstAllocator parent;
  cl_context context;
  cl_device_id device;
  cl_command_queue queue;
};

typedef struct {
  GstMemory mem;
  cl_mem buf;
  GMutex lock;
  gint maps;
  gpointer ptr;
} GstMaceClMemory;

G_DEFINE_TYPE (GstMaceClAllocator, gst_mace_cl_allocator, GST_TYPE_ALLOCATOR);

static GstMaceClMemory *
cl_memory_wrap (GstMaceClAllocator *a, GstMemory *parent, cl_mem buf,
                gsize maxsize, gsize offset, gsize size, GstMemoryFlags flags)
{
  GstMaceClMemory *m = g_new0 (GstMaceClMemory, 1);
  gst_memory_init (GST_MEMORY_CAST (m), flags, GST_ALLOCATOR_CAST (a), parent,
                   maxsize, 0, offset, size);
  m->buf = buf;
  g_mutex_init (&m->lock);
  return m;
}

static GstMemory *
cl_alloc (GstAllocator *allocator, gsize size, GstAllocationParams *params)
{
  GstMaceClAllocator *a = GST_MACE_CL_ALLOCATOR (allocator);
  gsize maxsize = size + params->prefix + params->padding;
  cl_int rc;
  cl_mem buf
      = clCreateBuffer (a->context, CL_MEM_READ_WRITE | CL_MEM_ALLOC_HOST_PTR,
                        maxsize, NULL, &rc);
  if (!buf) {
    GST_WARNING ("clCreateBuffer of %" G_GSIZE_FORMAT " bytes failed: %d",
                 maxsize, rc);
    return NULL;
  }
  return GST_MEMORY_CAST (cl_memory_wrap (a, NULL, buf, maxsize, params->prefix,
                                          size, params->flags));
}

static void
cl_free (GstAllocator *allocator, GstMemory *mem)
{
  GstMaceClMemory *m = (GstMaceClMemory *)mem;
  (void)allocator;
  if (m->maps > 0)
    GST_WARNING ("freeing a mapped OpenCL memory");
  clReleaseMemObject (m->buf);
  g_mutex_clear (&m->lock);
  g_free (m);
}

static gpointer
cl_map (GstMemory *mem, gsize maxsize, GstMapFlags flags)
{
  GstMaceClMemory *m = (GstMaceClMemory *)mem;
  GstMaceClAllocator *a = GST_MACE_CL_ALLOCATOR (mem->allocator);
  (void)maxsize;
  (void)flags;
  gpointer p = NULL;
  g_mutex_lock (&m->lock);
  if (m->maps == 0) {
    cl_int rc;
    size_t bytes = 0;
    clGetMemObjectInfo (m->buf, CL_MEM_SIZE, sizeof bytes, &bytes, NULL);
    m->ptr = clEnqueueMapBuffer (a->queue, m->buf, CL_TRUE,
                                 CL_MAP_READ | CL_MAP_WRITE, 0, bytes, 0, NULL,
                                 NULL, &rc);
    if (!m->ptr)
      GST_ERROR ("clEnqueueMapBuffer failed: %d", rc);
  }
  if (m->ptr) {
    m->maps++;
    p = m->ptr;
  }
  g_mutex_unlock (&m->lock);
  return p;
}

static void
cl_unmap (GstMemory *mem)
{
  GstMaceClMemory *m = (GstMaceClMemory *)mem;
  GstMaceClAllocator *a = GST_MACE_CL_ALLOCATOR (mem->allocator);
  g_mutex_lock (&m->lock);
  if (m->maps > 0 && --m->maps == 0) {
    clEnqueueUnmapMemObject (a->queue, m->buf, m->ptr, 0, NULL, NULL);
    clFinish (a->queue);
    m->ptr = NULL;
  }
  g_mutex_unlock (&m->lock);
}

static GstMemory *
cl_share (GstMemory *mem, gssize offset, gssize size)
{
  GstMaceClMemory *m = (GstMaceClMemory *)mem;
  GstMemory *parent = mem->parent ? mem->parent : mem;
  if (size == -1)
    size = (gssize)mem->size - offset;
  clRetainMemObject (m->buf);
  GstMaceClMemory *s = cl_memory_wrap (
      GST_MACE_CL_ALLOCATOR (mem->allocator), parent, m->buf, mem->maxsize,
      mem->offset + (gsize)offset, (gsize)size,
      GST_MINI_OBJECT_FLAGS (parent) | GST_MINI_OBJECT_FLAG_LOCK_READONLY);
  return GST_MEMORY_CAST (s);
}

static GstMemory *
cl_copy (GstMemory *mem, gssize offset, gssize size)
{
  if (size == -1)
    size = (gssize)mem->size - offset;
  GstAllocationParams params = { 0, 0, 0, 0, { 0 } };
  GstMemory *copy = cl_alloc (mem->allocator, (gsize)size, &params);
  if (!copy)
    return NULL;
  GstMapInfo src, dst;
  if (gst_memory_map (mem, &src, GST_MAP_READ)) {
    if (gst_memory_map (copy, &dst, GST_MAP_WRITE)) {
      memcpy (dst.data, src.data + offset, (gsize)size);
      gst_memory_unmap (copy, &dst);
    }
    gst_memory_unmap (mem, &src);
  }
  return copy;
}

static gboolean
cl_is_span (GstMemory *a, GstMemory *b, gsize *offset)
{
  (void)a;
  (void)b;
  (void)offset;
  return FALSE;
}

static void
gst_mace_cl_allocator_finalize (GObject *object)
{
  GstMaceClAllocator *a = GST_MACE_CL_ALLOCATOR (object);
  if (a->queue)
    clReleaseCommandQueue (a->queue);
  if (a->context)
    clReleaseContext (a->context);
  G_OBJECT_CLASS (gst_mace_cl_allocator_parent_class)->finalize (object);
}

static void
gst_mace_cl_allocator_class_init (GstMaceClAllocatorClass *klass)
{
  GstAllocatorClass *ac = GST_ALLOCATOR_CLASS (klass);
  ac->alloc = cl_alloc;
  ac->free = cl_free;
  G_OBJECT_CLASS (klass)->finalize = gst_mace_cl_allocator_finalize;
  GST_DEBUG_CATEGORY_INIT (mace_cl_memory_debug, "maceclmemory", 0,
                           "OpenCL-backed memory");
}

static void
gst_mace_cl_allocator_init (GstMaceClAllocator *a)
{
  GstAllocator *alloc = GST_ALLOCATOR_CAST (a);
  alloc->mem_type = GST_MACE_CL_MEMORY_TYPE;
  alloc->mem_map = cl_map;
  alloc->mem_unmap = cl_unmap;
  alloc->mem_copy = cl_copy;
  alloc->mem_share = cl_share;
  alloc->mem_is_span = cl_is_span;
  GST_OBJECT_FLAG_SET (a, GST_ALLOCATOR_FLAG_CUSTOM_ALLOC);
}

GstAllocator *
gst_mace_cl_allocator_new (void *context, void *device)
{
  cl_int rc;
  cl_command_queue q = clCreateCommandQueue ((cl_context)context,
                                             (cl_device_id)device, 0, &rc);
  if (!q)
    return NULL;
  GstMaceClAllocator *a = g_object_new (GST_TYPE_MACE_CL_ALLOCATOR, NULL);
  gst_object_ref_sink (a);
  clRetainContext ((cl_context)context);
  a->context = context;
  a->device = device;
  a->queue = q;
  return GST_ALLOCATOR_CAST (a);
}

gboolean
gst_is_mace_cl_memory (GstMemory *mem, void *context)
{
  return mem && mem->allocator && GST_IS_MACE_CL_ALLOCATOR (mem->allocator)
         && (!context
             || GST_MACE_CL_ALLOCATOR (mem->allocator)->context == context);
}

void *
gst_mace_cl_memory_get_buffer (GstMemory *mem, gsize *offset)
{
  if (offset)
    *offset = mem->offset;
  return ((GstMaceClMemory *)mem)->buf;
}
