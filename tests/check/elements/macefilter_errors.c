/* SPDX-License-Identifier: Apache-2.0
 * macefilter error cases that need generated models: a model with an op
 * libmace lacks (Einsum; a com.microsoft-domain node) fails the state
 * change and the error names the op and the file.
 * MACE_CHECK_MODELS: directory of the generated models. */
#include <string.h>

#include <gst/check/gstcheck.h>

static void
expect_state_change_error (const char *props, const char *const *needles,
                           GQuark domain)
{
  gchar *desc = g_strdup_printf (
      "videotestsrc num-buffers=1 ! macefilter %s ! fakesink", props);
  GstElement *p = gst_parse_launch (desc, NULL);
  fail_unless (p != NULL);
  GstStateChangeReturn r = gst_element_set_state (p, GST_STATE_PAUSED);
  if (r == GST_STATE_CHANGE_ASYNC)
    r = gst_element_get_state (p, NULL, NULL, 20 * GST_SECOND);
  fail_unless (r == GST_STATE_CHANGE_FAILURE,
               "READY->PAUSED should fail for %s", props);
  GstBus *bus = gst_element_get_bus (p);
  GstMessage *m = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (m != NULL, "no error message for %s", props);
  GError *e = NULL;
  gchar *dbg = NULL;
  gst_message_parse_error (m, &e, &dbg);
  GST_INFO ("%s -> %s (%s)", props, e->message, dbg);
  gchar *all = g_strdup_printf ("%s %s", e->message, dbg ? dbg : "");
  for (int i = 0; needles[i]; i++)
    fail_unless (strstr (e->message, needles[i]) != NULL,
                 "'%s' not in the error message '%s' (debug: %s)", needles[i],
                 e->message, dbg);
  fail_unless (e->domain == domain, "error domain %s",
               g_quark_to_string (e->domain));
  g_free (all);
  g_error_free (e);
  g_free (dbg);
  gst_message_unref (m);
  gst_object_unref (bus);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (p);
  g_free (desc);
}

static gchar *
gen_model (const char *name)
{
  const char *dir = g_getenv ("MACE_CHECK_MODELS");
  fail_unless (dir != NULL, "MACE_CHECK_MODELS not set");
  gchar *p = g_build_filename (dir, name, NULL);
  fail_unless (g_file_test (p, G_FILE_TEST_IS_REGULAR), "%s missing", p);
  return p;
}

GST_START_TEST (test_unsupported_einsum)
{
  gchar *model = gen_model ("unsupported-einsum.onnx");
  gchar *props = g_strdup_printf ("model=%s device=cpu", model);
  const char *needles[] = { "Einsum", "unsupported-einsum.onnx", NULL };
  expect_state_change_error (props, needles, GST_RESOURCE_ERROR);
  g_free (props);
  /* device=auto: the same error (not a fallback, not a crash). */
  props = g_strdup_printf ("model=%s device=auto", model);
  expect_state_change_error (props, needles, GST_RESOURCE_ERROR);
  g_free (props);
  g_free (model);
}
GST_END_TEST;

GST_START_TEST (test_unsupported_ms_domain)
{
  gchar *model = gen_model ("unsupported-msdomain.onnx");
  gchar *props = g_strdup_printf ("model=%s device=cpu", model);
  const char *needles[] = { "BiasGelu", "unsupported-msdomain.onnx", NULL };
  expect_state_change_error (props, needles, GST_RESOURCE_ERROR);
  g_free (props);
  g_free (model);
}
GST_END_TEST;

static Suite *
macefilter_errors_suite (void)
{
  Suite *s = suite_create ("macefilter_errors");
  TCase *tc = tcase_create ("general");
  tcase_set_timeout (tc, 120);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_unsupported_einsum);
  tcase_add_test (tc, test_unsupported_ms_domain);
  return s;
}

GST_CHECK_MAIN (macefilter_errors);
