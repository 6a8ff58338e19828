/* SPDX-License-Identifier: Apache-2.0
 * Status strings, error messages, the log callback and file helpers. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "internal.h"

const char *
mace_status_to_string (MaceStatus status)
{
  switch (status) {
    case MACE_OK: return "ok";
    case MACE_ERROR_IO: return "i/o error";
    case MACE_ERROR_PARSE: return "parse error";
    case MACE_ERROR_INVALID_MODEL: return "invalid model";
    case MACE_ERROR_UNSUPPORTED: return "unsupported";
    case MACE_ERROR_INVALID_ARG: return "invalid argument";
    case MACE_ERROR_SHAPE: return "shape mismatch";
    case MACE_ERROR_OUT_OF_MEMORY: return "out of memory";
    case MACE_ERROR_BACKEND: return "backend error";
    case MACE_ERROR_INTERNAL: return "internal error";
  }
  return "unknown status";
}

void
mace_set_error (MaceError *err, MaceStatus status, const char *fmt, ...)
{
  if (!err)
    return;
  err->status = status;
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (err->message, sizeof err->message, fmt, ap);
  va_end (ap);
}

static GMutex log_lock;
static MaceLogFunc log_func;
static void *log_data;
static int log_level = -1;

void
mace_set_log_callback (MaceLogFunc func, void *user_data)
{
  g_mutex_lock (&log_lock);
  log_func = func;
  log_data = user_data;
  g_mutex_unlock (&log_lock);
}

void
mace_set_log_level (MaceLogLevel level)
{
  g_atomic_int_set (&log_level, (int)level);
}

static int
current_level (void)
{
  int l = g_atomic_int_get (&log_level);
  if (l < 0) {
    /* The one place MACE_DEBUG is read. */
    l = g_getenv ("MACE_DEBUG") ? MACE_LOG_DEBUG : MACE_LOG_WARNING;
    g_atomic_int_set (&log_level, l);
  }
  return l;
}

void
mace_log (MaceLogLevel level, const char *fmt, ...)
{
  if ((int)level > current_level ())
    return;
  char buf[2048];
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (buf, sizeof buf, fmt, ap);
  va_end (ap);
  g_mutex_lock (&log_lock);
  MaceLogFunc f = log_func;
  void *d = log_data;
  g_mutex_unlock (&log_lock);
  if (f) {
    f (level, buf, d);
    return;
  }
  static const char *names[] = { "ERROR", "WARNING", "INFO", "DEBUG" };
  fprintf (stderr, "mace %s: %s\n", names[level], buf);
}

void
mace_free (void *ptr)
{
  g_free (ptr);
}

MaceStatus
mace_read_file (const char *path, uint8_t **data, size_t *len, MaceError *err)
{
  gchar *contents = NULL;
  gsize n = 0;
  GError *gerr = NULL;
  if (!g_file_get_contents (path, &contents, &n, &gerr)) {
    mace_set_error (err, MACE_ERROR_IO, "%s: cannot read: %s", path,
                    gerr->message);
    g_error_free (gerr);
    return MACE_ERROR_IO;
  }
  *data = (uint8_t *)contents;
  *len = n;
  return MACE_OK;
}

MaceStatus
mace_write_file_atomic (const char *path, const void *data, size_t len,
                        MaceError *err)
{
  gchar *dir = g_path_get_dirname (path);
  gchar *base = g_path_get_basename (path);
  gchar *tmpl = g_strdup_printf ("%s/.%s.XXXXXX", dir, base);
  MaceStatus st = MACE_OK;
  int fd = g_mkstemp (tmpl);
  if (fd < 0) {
    mace_set_error (err, MACE_ERROR_IO, "%s: cannot create a file in %s: %s",
                    path, dir, g_strerror (errno));
    st = MACE_ERROR_IO;
    goto out;
  }
  const uint8_t *p = data;
  size_t left = len;
  while (left > 0) {
    ssize_t w = write (fd, p, left);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      mace_set_error (err, MACE_ERROR_IO, "%s: write failed: %s", path,
                      g_strerror (errno));
      st = MACE_ERROR_IO;
      close (fd);
      unlink (tmpl);
      goto out;
    }
    p += w;
    left -= (size_t)w;
  }
  if (fsync (fd) != 0 || close (fd) != 0) {
    mace_set_error (err, MACE_ERROR_IO, "%s: fsync/close failed: %s", path,
                    g_strerror (errno));
    unlink (tmpl);
    st = MACE_ERROR_IO;
    goto out;
  }
  chmod (tmpl, 0644);
  if (rename (tmpl, path) != 0) {
    mace_set_error (err, MACE_ERROR_IO, "%s: rename failed: %s", path,
                    g_strerror (errno));
    unlink (tmpl);
    st = MACE_ERROR_IO;
    goto out;
  }
  int dfd = open (dir, O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    fsync (dfd);
    close (dfd);
  }
out:
  g_free (dir);
  g_free (base);
  g_free (tmpl);
  return st;
}
