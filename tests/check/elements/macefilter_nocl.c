/* SPDX-License-Identifier: Apache-2.0
 * macefilter with no OpenCL device.  Meson runs this with OCL_ICD_VENDORS
 * pointing at an empty directory, so the ICD loader finds no platform:
 * device=gpu fails the state change with LIBRARY/INIT; device=auto falls
 * back to the CPU, posts a warning and runs. */
#include <string.h>

#include <gst/check/gstcheck.h>

#include "common.h"

GST_START_TEST (test_gpu_fails)
{
  gchar *model = face_model ();
  if (!g_file_test (model, G_FILE_TEST_EXISTS)) {
    g_free (model);
    return;
  }
  gchar *desc = g_strdup_printf (
      "videotestsrc num-buffers=1 ! macefilter model=%s device=gpu ! fakesink",
      model);
  GstElement *p = gst_parse_launch (desc, NULL);
  GstStateChangeReturn r = gst_element_set_state (p, GST_STATE_PAUSED);
  if (r == GST_STATE_CHANGE_ASYNC)
    r = gst_element_get_state (p, NULL, NULL, 20 * GST_SECOND);
  fail_unless (r == GST_STATE_CHANGE_FAILURE,
               "device=gpu without OpenCL must fail");
  GstBus *bus = gst_element_get_bus (p);
  GstMessage *m = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (m != NULL);
  GError *e = NULL;
  gchar *dbg = NULL;
  gst_message_parse_error (m, &e, &dbg);
  GST_INFO ("device=gpu: %s (%s)", e->message, dbg);
  fail_unless (g_error_matches (e, GST_LIBRARY_ERROR, GST_LIBRARY_ERROR_INIT),
               "expected LIBRARY/INIT, got %s %d: %s",
               g_quark_to_string (e->domain), e->code, e->message);
  fail_unless (strstr (e->message, "OpenCL") != NULL, "'%s'", e->message);
  g_error_free (e);
  g_free (dbg);
  gst_message_unref (m);
  gst_object_unref (bus);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (p);
  g_free (desc);
  g_free (model);
}
GST_END_TEST;

GST_START_TEST (test_auto_falls_back)
{
  gchar *model = face_model ();
  if (!g_file_test (model, G_FILE_TEST_EXISTS)) {
    g_free (model);
    return;
  }
  gchar *desc = g_strdup_printf (
      "videotestsrc num-buffers=3 ! video/x-raw,width=160,height=120 ! "
      "macefilter name=f model=%s device=auto ! fakesink",
      model);
  GstElement *p = gst_parse_launch (desc, NULL);
  fail_unless (gst_element_set_state (p, GST_STATE_PLAYING)
               != GST_STATE_CHANGE_FAILURE);
  GstBus *bus = gst_element_get_bus (p);
  gboolean warned = FALSE, eos = FALSE;
  while (!eos) {
    GstMessage *m = gst_bus_timed_pop_filtered (
        bus, 30 * GST_SECOND,
        GST_MESSAGE_WARNING | GST_MESSAGE_ERROR | GST_MESSAGE_EOS);
    fail_unless (m != NULL, "timeout");
    if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_WARNING) {
      GError *e = NULL;
      gchar *dbg = NULL;
      gst_message_parse_warning (m, &e, &dbg);
      GST_INFO ("warning: %s (%s)", e->message, dbg);
      if (strstr (e->message, "CPU") && strstr (e->message, "OpenCL")
          && g_str_has_prefix (GST_OBJECT_NAME (GST_MESSAGE_SRC (m)), "f"))
        warned = TRUE;
      g_error_free (e);
      g_free (dbg);
    } else if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR) {
      GError *e = NULL;
      gst_message_parse_error (m, &e, NULL);
      fail ("device=auto without OpenCL failed: %s", e->message);
    } else {
      eos = TRUE;
    }
    gst_message_unref (m);
  }
  fail_unless (warned, "no warning that the CPU is used instead of OpenCL");
  GstElement *f = gst_bin_get_by_name (GST_BIN (p), "f");
  guint64 inferences;
  g_object_get (f, "inferences", &inferences, NULL);
  fail_unless (inferences == 3);
  gst_object_unref (f);
  gst_object_unref (bus);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (p);
  g_free (desc);
  g_free (model);
}
GST_END_TEST;

static Suite *
macefilter_nocl_suite (void)
{
  Suite *s = suite_create ("macefilter_nocl");
  TCase *tc = tcase_create ("general");
  tcase_set_timeout (tc, 120);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_gpu_fails);
  tcase_add_test (tc, test_auto_falls_back);
  return s;
}

GST_CHECK_MAIN (macefilter_nocl);
