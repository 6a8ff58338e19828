/* SPDX-License-Identifier: Apache-2.0 */
#ifndef GST_MACE_FILTER_H
#define GST_MACE_FILTER_H

#include <gst/video/gstvideofilter.h>
#include <gst/video/video.h>

G_BEGIN_DECLS

#define GST_TYPE_MACE_FILTER (gst_mace_filter_get_type ())
G_DECLARE_FINAL_TYPE (GstMaceFilter, gst_mace_filter, GST, MACE_FILTER,
                      GstVideoFilter)

GST_ELEMENT_REGISTER_DECLARE (macefilter);

G_END_DECLS

#endif
