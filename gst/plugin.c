/* SPDX-License-Identifier: Apache-2.0
 * The mace plugin: registers macefilter and maceoverlay. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/gst.h>

#include "gstmacefilter.h"
#include "gstmaceoverlay.h"

static gboolean
plugin_init (GstPlugin *plugin)
{
  gboolean ret = FALSE;
  ret |= GST_ELEMENT_REGISTER (macefilter, plugin);
  ret |= GST_ELEMENT_REGISTER (maceoverlay, plugin);
  return ret;
}

#define PACKAGE "gst-mace"
GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, mace,
                   "Neural network inference on video with libmace (ONNX, "
                   "CPU and OpenCL)",
                   plugin_init, MACE_VERSION, GST_LICENSE_UNKNOWN, "gst-mace",
                   "https://github.com/gst-mace/gst-mace")
