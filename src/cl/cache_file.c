/* SPDX-License-Identifier: Apache-2.0
 * The cache file format shared by the compiled-program cache and the
 * tuning cache (layout in cache_file.h): parse with damage isolation,
 * serialise, merge, bound, locked atomic write, crash markers, dump. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cache_file.h"

#define TAG_SECTION 0x54434553u /* "SECT" */
#define TAG_ENTRY 0x52544e45u   /* "ENTR" */
/* How long a writer waits for another process's lock before giving up. */
#define LOCK_TIMEOUT_MS 30000

/* ---- Small helpers ---------------------------------------------------- */

static uint32_t
rd32 (const uint8_t *p)
{
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16
         | (uint32_t)p[3] << 24;
}

static uint64_t
rd64 (const uint8_t *p)
{
  return (uint64_t)rd32 (p) | (uint64_t)rd32 (p + 4) << 32;
}

static void
put32 (GByteArray *b, uint32_t v)
{
  uint8_t p[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
                   (uint8_t)(v >> 24) };
  g_byte_array_append (b, p, 4);
}

static void
put64 (GByteArray *b, uint64_t v)
{
  put32 (b, (uint32_t)v);
  put32 (b, (uint32_t)(v >> 32));
}

static void
putstr (GByteArray *b, const char *s)
{
  size_t n = strlen (s);
  put32 (b, (uint32_t)n);
  g_byte_array_append (b, (const guint8 *)s, (guint)n);
}

static void
sha256 (const void *data, size_t len, uint8_t out[32])
{
  GChecksum *c = g_checksum_new (G_CHECKSUM_SHA256);
  g_checksum_update (c, data, (gssize)len);
  gsize n = 32;
  g_checksum_get_digest (c, out, &n);
  g_checksum_free (c);
}

void
mace_sha256_hex (const void *data, size_t len, char out[65])
{
  uint8_t d[32];
  sha256 (data, len, d);
  for (int i = 0; i < 32; i++)
    snprintf (out + 2 * i, 3, "%02x", d[i]);
}

static void
hex (const uint8_t d[32], char out[65])
{
  for (int i = 0; i < 32; i++)
    snprintf (out + 2 * i, 3, "%02x", d[i]);
}

int64_t
mace_cache_now_us (void)
{
  return g_get_real_time ();
}

const char *
mace_cache_kind_name (MaceCacheKind kind)
{
  switch (kind) {
    case MACE_CACHE_KIND_PROGRAMS: return "compiled programs";
    case MACE_CACHE_KIND_TUNING: return "tuned parameters";
  }
  return "unknown";
}

const MaceCacheRules *
mace_cache_rules (MaceCacheKind kind)
{
  /* Section keys (see mace_cl_cache_device_keys): 0 platform name,
   * 1 platform version, 2 device name, 3 vendor id, 4 driver version,
   * 5 OpenCL C version, 6 pointer width.  The identity of a device is its
   * platform name, device name, vendor id and pointer width; the rest
   * changes with a driver update. */
  static const MaceCacheRules programs = {
    .section_identity_mask = 1u << 0 | 1u << 2 | 1u << 3 | 1u << 6,
    /* Entry keys: 0 program name, 1 source sha256, 2 build options. */
    .entry_identity_mask = 1u << 0 | 1u << 2,
    .max_bytes = MACE_CACHE_MAX_BYTES,
  };
  static const MaceCacheRules tuning = {
    .section_identity_mask = 1u << 0 | 1u << 2 | 1u << 3 | 1u << 6,
    /* Entry key: 0 kernel + shape. */
    .entry_identity_mask = 1u << 0,
    .max_bytes = MACE_CACHE_MAX_BYTES,
  };
  return kind == MACE_CACHE_KIND_TUNING ? &tuning : &programs;
}

/* ---- Objects ---------------------------------------------------------- */

MaceCacheEntry *
mace_cache_entry_new (int n_keys, const char *const *keys, const void *data,
                      size_t size, int64_t written_us)
{
  MaceCacheEntry *e = g_new0 (MaceCacheEntry, 1);
  e->n_keys = n_keys;
  e->keys = g_new0 (char *, n_keys > 0 ? n_keys : 1);
  for (int i = 0; i < n_keys; i++)
    e->keys[i] = g_strdup (keys[i] ? keys[i] : "");
  e->size = size;
  e->data = size ? g_memdup2 (data, size) : NULL;
  sha256 (data ? data : "", size, e->sha256);
  e->written_us = written_us;
  return e;
}

static MaceCacheEntry *
entry_copy (const MaceCacheEntry *src, bool with_data)
{
  MaceCacheEntry *e = g_new0 (MaceCacheEntry, 1);
  e->n_keys = src->n_keys;
  e->keys = g_new0 (char *, src->n_keys > 0 ? src->n_keys : 1);
  for (int i = 0; i < src->n_keys; i++)
    e->keys[i] = g_strdup (src->keys[i]);
  if (with_data) {
    e->size = src->size;
    e->data = src->size ? g_memdup2 (src->data, src->size) : NULL;
  }
  memcpy (e->sha256, src->sha256, 32);
  e->written_us = src->written_us;
  e->fresh = src->fresh;
  return e;
}

void
mace_cache_entry_free (MaceCacheEntry *e)
{
  if (!e)
    return;
  for (int i = 0; i < e->n_keys; i++)
    g_free (e->keys[i]);
  g_free (e->keys);
  g_free (e->data);
  g_free (e);
}

MaceCacheSection *
mace_cache_section_new (int n_keys, char **labels, char **values)
{
  MaceCacheSection *s = g_new0 (MaceCacheSection, 1);
  s->n_keys = n_keys;
  s->labels = g_new0 (char *, n_keys + 1);
  s->values = g_new0 (char *, n_keys + 1);
  for (int i = 0; i < n_keys; i++) {
    s->labels[i] = g_strdup (labels && labels[i] ? labels[i] : "");
    s->values[i] = g_strdup (values && values[i] ? values[i] : "");
  }
  s->entries
      = g_ptr_array_new_with_free_func ((GDestroyNotify)mace_cache_entry_free);
  s->removed
      = g_ptr_array_new_with_free_func ((GDestroyNotify)mace_cache_entry_free);
  return s;
}

static void
section_free (MaceCacheSection *s)
{
  if (!s)
    return;
  g_strfreev (s->labels);
  g_strfreev (s->values);
  g_ptr_array_unref (s->entries);
  g_ptr_array_unref (s->removed);
  g_free (s);
}

MaceCacheFile *
mace_cache_file_new (MaceCacheKind kind)
{
  MaceCacheFile *f = g_new0 (MaceCacheFile, 1);
  f->kind = kind;
  f->format_version = MACE_CACHE_FORMAT_VERSION;
  g_strlcpy (f->lib_version, MACE_VERSION, sizeof f->lib_version);
  f->sections = g_ptr_array_new_with_free_func ((GDestroyNotify)section_free);
  return f;
}

void
mace_cache_file_free (MaceCacheFile *file)
{
  if (!file)
    return;
  g_ptr_array_unref (file->sections);
  g_free (file);
}

void
mace_cache_file_add_section (MaceCacheFile *file, MaceCacheSection *section)
{
  g_ptr_array_add (file->sections, section);
}

static bool
strv_equal (int n, char *const *a, char *const *b)
{
  for (int i = 0; i < n; i++)
    if (strcmp (a[i], b[i]) != 0)
      return false;
  return true;
}

MaceCacheSection *
mace_cache_file_find_section (const MaceCacheFile *file, int n_keys,
                              char *const *values)
{
  for (guint i = 0; i < file->sections->len; i++) {
    MaceCacheSection *s = g_ptr_array_index (file->sections, i);
    if (s->n_keys == n_keys && strv_equal (n_keys, s->values, values))
      return s;
  }
  return NULL;
}

int
mace_cache_section_find_entry (const MaceCacheSection *s, int n_keys,
                               const char *const *keys)
{
  for (guint i = 0; i < s->entries->len; i++) {
    MaceCacheEntry *e = g_ptr_array_index (s->entries, i);
    if (e->n_keys == n_keys
        && strv_equal (n_keys, e->keys, (char *const *)keys))
      return (int)i;
  }
  return -1;
}

void
mace_cache_section_put (MaceCacheSection *s, MaceCacheEntry *e)
{
  int i = mace_cache_section_find_entry (s, e->n_keys,
                                         (const char *const *)e->keys);
  if (i >= 0) {
    MaceCacheEntry *old = g_ptr_array_index (s->entries, i);
    g_ptr_array_index (s->entries, i) = e;
    mace_cache_entry_free (old);
  } else {
    g_ptr_array_add (s->entries, e);
  }
}

void
mace_cache_section_remove (MaceCacheSection *s, guint i, bool tombstone)
{
  if (i >= s->entries->len)
    return;
  MaceCacheEntry *e = g_ptr_array_index (s->entries, i);
  if (tombstone && !e->fresh)
    g_ptr_array_add (s->removed, entry_copy (e, false));
  g_ptr_array_remove_index (s->entries, i);
}

bool
mace_cache_file_dirty (const MaceCacheFile *file)
{
  for (guint i = 0; i < file->sections->len; i++) {
    MaceCacheSection *s = g_ptr_array_index (file->sections, i);
    if (s->removed->len > 0)
      return true;
    for (guint j = 0; j < s->entries->len; j++)
      if (((MaceCacheEntry *)g_ptr_array_index (s->entries, j))->fresh)
        return true;
  }
  return false;
}

/* ---- Parsing ---------------------------------------------------------- */

typedef struct {
  const char *path;
  MaceCacheProblemFunc report;
  void *user_data;
  int n;
} Problems;

static void problem (Problems *p, MaceCacheProblem kind, const char *fmt, ...)
    MACE_PRINTF (3, 4);

static void
problem (Problems *p, MaceCacheProblem kind, const char *fmt, ...)
{
  char msg[768];
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (msg, sizeof msg, fmt, ap);
  va_end (ap);
  p->n++;
  if (p->report) {
    char full[1024];
    snprintf (full, sizeof full, "%s: %s", p->path ? p->path : "(memory)", msg);
    p->report (kind, full, p->user_data);
  }
}

/* Reads a block of n length-prefixed strings that must fill exactly
 * `size` bytes.  Returns false on damage. */
static bool
parse_strings (const uint8_t *p, size_t size, int n, char **out)
{
  size_t off = 0;
  for (int i = 0; i < n; i++) {
    if (size - off < 4)
      return false;
    uint32_t len = rd32 (p + off);
    off += 4;
    if (len > size - off || memchr (p + off, 0, len) != NULL)
      return false;
    out[i] = g_strndup ((const char *)p + off, len);
    off += len;
  }
  return off == size;
}

static void
free_strings (char **s, int n)
{
  for (int i = 0; i < n; i++) {
    g_free (s[i]);
    s[i] = NULL;
  }
}

/* A short name for an entry in messages. */
static const char *
entry_label (char **keys, int n)
{
  return n > 0 && keys[0] ? keys[0] : "?";
}

MaceCacheFile *
mace_cache_file_parse (const uint8_t *data, size_t len, MaceCacheKind kind,
                       const char *path, MaceCacheProblemFunc report,
                       void *user_data, int *n_problems)
{
  Problems pr = { path, report, user_data, 0 };
  MaceCacheFile *file
      = mace_cache_file_new (kind ? kind : MACE_CACHE_KIND_PROGRAMS);
  if (n_problems)
    *n_problems = 0;
  if (len == 0) {
    problem (&pr, MACE_CACHE_PROBLEM_CORRUPT, "empty file (0 bytes)");
    goto out;
  }
  if (len < MACE_CACHE_HEADER_SIZE) {
    problem (&pr, MACE_CACHE_PROBLEM_CORRUPT,
             "truncated header (%zu bytes, a header has %u)", len,
             MACE_CACHE_HEADER_SIZE);
    goto out;
  }
  if (memcmp (data, MACE_CACHE_MAGIC, 8) != 0) {
    problem (&pr, MACE_CACHE_PROBLEM_CORRUPT,
             "bad magic (not a gst-mace cache file)");
    goto out;
  }
  uint32_t version = rd32 (data + 8);
  if (version != MACE_CACHE_FORMAT_VERSION) {
    problem (&pr, MACE_CACHE_PROBLEM_VERSION,
             "cache format version %u is not supported (this library, "
             "version %s, reads format version %u); ignoring the file",
             version, MACE_VERSION, MACE_CACHE_FORMAT_VERSION);
    goto out;
  }
  uint8_t digest[32];
  sha256 (data, 64, digest);
  if (memcmp (digest, data + 64, 32) != 0) {
    problem (&pr, MACE_CACHE_PROBLEM_CORRUPT, "header checksum mismatch");
    goto out;
  }
  uint32_t file_kind = rd32 (data + 12);
  if (file_kind != MACE_CACHE_KIND_PROGRAMS
      && file_kind != MACE_CACHE_KIND_TUNING) {
    problem (&pr, MACE_CACHE_PROBLEM_CORRUPT, "unknown cache kind %u",
             file_kind);
    goto out;
  }
  if (kind && file_kind != (uint32_t)kind) {
    problem (&pr, MACE_CACHE_PROBLEM_KIND,
             "this is a cache of %s, not of %s; ignoring the file",
             mace_cache_kind_name ((MaceCacheKind)file_kind),
             mace_cache_kind_name (kind));
    goto out;
  }
  file->kind = (MaceCacheKind)file_kind;
  memcpy (file->lib_version, data + 16, 32);
  file->lib_version[32] = '\0';
  uint32_t n_sections = rd32 (data + 48);
  uint64_t body = rd64 (data + 56);
  size_t end = len;
  if (body > len - MACE_CACHE_HEADER_SIZE) {
    problem (&pr, MACE_CACHE_PROBLEM_CORRUPT,
             "truncated (%zu bytes, the header says %" G_GUINT64_FORMAT ")",
             len, body + MACE_CACHE_HEADER_SIZE);
  } else if (body < len - MACE_CACHE_HEADER_SIZE) {
    problem (&pr, MACE_CACHE_PROBLEM_CORRUPT,
             "%zu unexpected bytes after the end; ignored",
             (size_t)(len - MACE_CACHE_HEADER_SIZE - body));
    end = MACE_CACHE_HEADER_SIZE + (size_t)body;
  }

  size_t off = MACE_CACHE_HEADER_SIZE;
  for (uint32_t si = 0; si < n_sections; si++) {
    if (end - off < 16 + 32) {
      problem (&pr, MACE_CACHE_PROBLEM_CORRUPT,
               "truncated in section %u of %u; dropped from there on", si,
               n_sections);
      goto out;
    }
    const uint8_t *h = data + off;
    uint32_t n_keys = rd32 (h + 4), n_entries = rd32 (h + 8);
    uint32_t ksize = rd32 (h + 12);
    if (rd32 (h) != TAG_SECTION || n_keys > MACE_CACHE_MAX_KEYS
        || ksize > end - off - 16 - 32) {
      problem (&pr, MACE_CACHE_PROBLEM_CORRUPT,
               "section %u of %u is damaged (bad tag or sizes); dropped from "
               "there on",
               si, n_sections);
      goto out;
    }
    sha256 (h, 16 + ksize, digest);
    if (memcmp (digest, h + 16 + ksize, 32) != 0) {
      problem (&pr, MACE_CACHE_PROBLEM_CORRUPT,
               "section %u of %u: header checksum mismatch; dropped from "
               "there on",
               si, n_sections);
      goto out;
    }
    char **kv = g_new0 (char *, 2 * n_keys + 1);
    if (!parse_strings (h + 16, ksize, (int)(2 * n_keys), kv)) {
      free_strings (kv, (int)(2 * n_keys));
      g_free (kv);
      problem (&pr, MACE_CACHE_PROBLEM_CORRUPT,
               "section %u of %u: damaged keys; dropped from there on", si,
               n_sections);
      goto out;
    }
    MaceCacheSection *s = mace_cache_section_new (0, NULL, NULL);
    g_free (s->labels);
    g_free (s->values);
    s->n_keys = (int)n_keys;
    s->labels = g_new0 (char *, n_keys + 1);
    s->values = g_new0 (char *, n_keys + 1);
    for (uint32_t k = 0; k < n_keys; k++) {
      s->labels[k] = kv[2 * k];
      s->values[k] = kv[2 * k + 1];
    }
    g_free (kv);
    g_ptr_array_add (file->sections, s);
    off += 16 + ksize + 32;

    for (uint32_t ei = 0; ei < n_entries; ei++) {
      if (end - off < 32 + 64) {
        problem (&pr, MACE_CACHE_PROBLEM_CORRUPT,
                 "truncated in entry %u of section %u; dropped from there on",
                 ei, si);
        goto out;
      }
      const uint8_t *eh = data + off;
      uint32_t en = rd32 (eh + 4), eks = rd32 (eh + 8);
      uint64_t written = rd64 (eh + 16), dsize = rd64 (eh + 24);
      if (rd32 (eh) != TAG_ENTRY || en > MACE_CACHE_MAX_KEYS
          || eks > end - off - 32 - 64) {
        problem (&pr, MACE_CACHE_PROBLEM_CORRUPT,
                 "entry %u of section %u is damaged (bad tag or sizes); "
                 "dropped from there on",
                 ei, si);
        goto out;
      }
      sha256 (eh, 32 + eks + 32, digest);
      if (memcmp (digest, eh + 32 + eks + 32, 32) != 0) {
        problem (&pr, MACE_CACHE_PROBLEM_CORRUPT,
                 "entry %u of section %u: header checksum mismatch; dropped "
                 "from there on",
                 ei, si);
        goto out;
      }
      char **keys = g_new0 (char *, en + 1);
      if (!parse_strings (eh + 32, eks, (int)en, keys)) {
        free_strings (keys, (int)en);
        g_free (keys);
        problem (&pr, MACE_CACHE_PROBLEM_CORRUPT,
                 "entry %u of section %u: damaged keys; dropped from there "
                 "on",
                 ei, si);
        goto out;
      }
      size_t hsize = 32 + eks + 64;
      if (dsize > end - off - hsize) {
        problem (&pr, MACE_CACHE_PROBLEM_CORRUPT,
                 "entry '%s' (section %u): truncated (%zu of %" G_GUINT64_FORMAT
                 " bytes); dropped from there on",
                 entry_label (keys, (int)en), si, end - off - hsize, dsize);
        free_strings (keys, (int)en);
        g_free (keys);
        goto out;
      }
      const uint8_t *d = eh + hsize;
      sha256 (d, (size_t)dsize, digest);
      if (memcmp (digest, eh + 32 + eks, 32) != 0) {
        problem (&pr, MACE_CACHE_PROBLEM_CORRUPT,
                 "entry '%s' (section %u): checksum of its %" G_GUINT64_FORMAT
                 " bytes does not match; dropped",
                 entry_label (keys, (int)en), si, dsize);
        free_strings (keys, (int)en);
        g_free (keys);
      } else {
        MaceCacheEntry *e = g_new0 (MaceCacheEntry, 1);
        e->n_keys = (int)en;
        e->keys = keys;
        e->size = (size_t)dsize;
        e->data = dsize ? g_memdup2 (d, (gsize)dsize) : NULL;
        memcpy (e->sha256, digest, 32);
        e->written_us = (int64_t)written;
        g_ptr_array_add (s->entries, e);
      }
      off += hsize + (size_t)dsize;
    }
  }
  if (off < end)
    problem (&pr, MACE_CACHE_PROBLEM_CORRUPT,
             "%zu bytes after the last section; ignored", end - off);
out:
  if (n_problems)
    *n_problems = pr.n;
  return file;
}

/* ---- Serialising ------------------------------------------------------ */

static size_t
strings_size (char *const *s, int n)
{
  size_t t = 0;
  for (int i = 0; i < n; i++)
    t += 4 + strlen (s[i]);
  return t;
}

size_t
mace_cache_entry_file_size (const MaceCacheEntry *e)
{
  return 32 + strings_size (e->keys, e->n_keys) + 64 + e->size;
}

static size_t
section_header_size (const MaceCacheSection *s)
{
  return 16 + strings_size (s->labels, s->n_keys)
         + strings_size (s->values, s->n_keys) + 32;
}

void
mace_cache_file_serialize (const MaceCacheFile *file, uint8_t **out,
                           size_t *len)
{
  GByteArray *b = g_byte_array_new ();
  uint8_t digest[32];
  g_byte_array_append (b, (const guint8 *)MACE_CACHE_MAGIC, 8);
  put32 (b, MACE_CACHE_FORMAT_VERSION);
  put32 (b, (uint32_t)file->kind);
  char ver[32] = { 0 };
  strncpy (ver, MACE_VERSION, sizeof ver - 1);
  g_byte_array_append (b, (const guint8 *)ver, 32);
  guint n_sections = 0;
  for (guint i = 0; i < file->sections->len; i++)
    if (((MaceCacheSection *)g_ptr_array_index (file->sections, i))
            ->entries->len
        > 0)
      n_sections++;
  put32 (b, n_sections);
  put32 (b, 0);
  put64 (b, 0); /* body size, patched below */
  g_byte_array_append (b, digest, 32);

  for (guint i = 0; i < file->sections->len; i++) {
    const MaceCacheSection *s = g_ptr_array_index (file->sections, i);
    if (s->entries->len == 0)
      continue; /* empty sections are not written */
    size_t start = b->len;
    put32 (b, TAG_SECTION);
    put32 (b, (uint32_t)s->n_keys);
    put32 (b, s->entries->len);
    put32 (b, (uint32_t)(strings_size (s->labels, s->n_keys)
                         + strings_size (s->values, s->n_keys)));
    for (int k = 0; k < s->n_keys; k++) {
      putstr (b, s->labels[k]);
      putstr (b, s->values[k]);
    }
    sha256 (b->data + start, b->len - start, digest);
    g_byte_array_append (b, digest, 32);
    for (guint j = 0; j < s->entries->len; j++) {
      const MaceCacheEntry *e = g_ptr_array_index (s->entries, j);
      start = b->len;
      put32 (b, TAG_ENTRY);
      put32 (b, (uint32_t)e->n_keys);
      put32 (b, (uint32_t)strings_size (e->keys, e->n_keys));
      put32 (b, 0);
      put64 (b, (uint64_t)e->written_us);
      put64 (b, (uint64_t)e->size);
      for (int k = 0; k < e->n_keys; k++)
        putstr (b, e->keys[k]);
      g_byte_array_append (b, e->sha256, 32);
      sha256 (b->data + start, b->len - start, digest);
      g_byte_array_append (b, digest, 32);
      if (e->size)
        g_byte_array_append (b, e->data, (guint)e->size);
    }
  }
  uint64_t body = b->len - MACE_CACHE_HEADER_SIZE;
  for (int k = 0; k < 8; k++)
    b->data[56 + k] = (uint8_t)(body >> (8 * k));
  sha256 (b->data, 64, b->data + 64);
  *len = b->len;
  *out = g_byte_array_free (b, FALSE);
}

/* ---- Merge and bound -------------------------------------------------- */

static bool
masked_equal (uint32_t mask, int n, char *const *a, char *const *b)
{
  for (int i = 0; i < n && i < 32; i++)
    if ((mask & (1u << i)) && strcmp (a[i], b[i]) != 0)
      return false;
  return true;
}

/* Merge rules, ours into disk:
 * - for the current device's section, disk sections of the same device
 *   with other keys (an older or newer driver) are dropped;
 * - an entry of ours with the same keys as one on disk: the more recently
 *   written one stays;
 * - a fresh entry of ours supersedes disk entries with the same identity
 *   (program name + options: an older source hash);
 * - a loaded (not fresh) entry of ours that disk lacks comes back only if
 *   no entry of the same identity is there (another process may have
 *   superseded it);
 * - our tombstones remove identical entries (keys and checksum) from disk;
 * - replace_all (rebuild mode): only our entries survive in that section. */
void
mace_cache_file_merge (MaceCacheFile *disk, const MaceCacheFile *ours)
{
  const MaceCacheRules *rules = mace_cache_rules (ours->kind);
  for (guint i = 0; i < ours->sections->len; i++) {
    const MaceCacheSection *os = g_ptr_array_index (ours->sections, i);
    /* A section of an obsolete driver that we still hold in memory is not
     * written back. */
    bool obsolete = false;
    for (guint j = 0; j < ours->sections->len && !os->current; j++) {
      const MaceCacheSection *cs = g_ptr_array_index (ours->sections, j);
      if (cs->current && cs->n_keys == os->n_keys
          && masked_equal (rules->section_identity_mask, os->n_keys, cs->values,
                           os->values))
        obsolete = true;
    }
    if (obsolete)
      continue;
    if (os->current) {
      for (guint j = disk->sections->len; j-- > 0;) {
        MaceCacheSection *ds = g_ptr_array_index (disk->sections, j);
        if (ds->n_keys == os->n_keys
            && masked_equal (rules->section_identity_mask, os->n_keys,
                             ds->values, os->values)
            && !strv_equal (os->n_keys, ds->values, os->values))
          g_ptr_array_remove_index (disk->sections, j);
      }
    }
    MaceCacheSection *ds
        = mace_cache_file_find_section (disk, os->n_keys, os->values);
    if (!ds) {
      ds = mace_cache_section_new (os->n_keys, os->labels, os->values);
      g_ptr_array_add (disk->sections, ds);
    }
    if (os->replace_all) {
      for (guint j = ds->entries->len; j-- > 0;) {
        MaceCacheEntry *de = g_ptr_array_index (ds->entries, j);
        if (mace_cache_section_find_entry (os, de->n_keys,
                                           (const char *const *)de->keys)
            < 0)
          g_ptr_array_remove_index (ds->entries, j);
      }
    }
    for (guint j = 0; j < os->removed->len; j++) {
      const MaceCacheEntry *t = g_ptr_array_index (os->removed, j);
      int k = mace_cache_section_find_entry (ds, t->n_keys,
                                             (const char *const *)t->keys);
      if (k >= 0
          && memcmp (
                 ((MaceCacheEntry *)g_ptr_array_index (ds->entries, k))->sha256,
                 t->sha256, 32)
                 == 0)
        g_ptr_array_remove_index (ds->entries, (guint)k);
    }
    for (guint j = 0; j < os->entries->len; j++) {
      const MaceCacheEntry *oe = g_ptr_array_index (os->entries, j);
      int k = mace_cache_section_find_entry (ds, oe->n_keys,
                                             (const char *const *)oe->keys);
      if (k >= 0) {
        MaceCacheEntry *de = g_ptr_array_index (ds->entries, k);
        if (oe->fresh || oe->written_us > de->written_us) {
          g_ptr_array_index (ds->entries, k) = entry_copy (oe, true);
          mace_cache_entry_free (de);
        }
        continue;
      }
      bool same_identity = false;
      for (guint m = ds->entries->len; m-- > 0;) {
        MaceCacheEntry *de = g_ptr_array_index (ds->entries, m);
        if (de->n_keys != oe->n_keys
            || !masked_equal (rules->entry_identity_mask, oe->n_keys, de->keys,
                              oe->keys))
          continue;
        same_identity = true;
        if (oe->fresh)
          g_ptr_array_remove_index (ds->entries, m);
      }
      if (oe->fresh || !same_identity)
        g_ptr_array_add (ds->entries, entry_copy (oe, true));
    }
  }
  for (guint j = disk->sections->len; j-- > 0;)
    if (((MaceCacheSection *)g_ptr_array_index (disk->sections, j))
            ->entries->len
        == 0)
      g_ptr_array_remove_index (disk->sections, j);
}

typedef struct {
  MaceCacheSection *s;
  MaceCacheEntry *e;
} EntryRef;

static int
cmp_written (const void *a, const void *b)
{
  const EntryRef *x = a, *y = b;
  return x->e->written_us < y->e->written_us   ? -1
         : x->e->written_us > y->e->written_us ? 1
                                               : 0;
}

int
mace_cache_file_bound (MaceCacheFile *file, uint64_t max_bytes)
{
  uint64_t total = MACE_CACHE_HEADER_SIZE;
  guint n = 0;
  for (guint i = 0; i < file->sections->len; i++) {
    MaceCacheSection *s = g_ptr_array_index (file->sections, i);
    total += section_header_size (s);
    for (guint j = 0; j < s->entries->len; j++)
      total += mace_cache_entry_file_size (g_ptr_array_index (s->entries, j));
    n += s->entries->len;
  }
  if (total <= max_bytes || n == 0)
    return 0;
  EntryRef *refs = g_new (EntryRef, n);
  guint k = 0;
  for (guint i = 0; i < file->sections->len; i++) {
    MaceCacheSection *s = g_ptr_array_index (file->sections, i);
    for (guint j = 0; j < s->entries->len; j++)
      refs[k++] = (EntryRef){ s, g_ptr_array_index (s->entries, j) };
  }
  qsort (refs, n, sizeof *refs, cmp_written);
  int dropped = 0;
  for (k = 0; k < n && total > max_bytes; k++) {
    total -= mace_cache_entry_file_size (refs[k].e);
    if (refs[k].s->entries->len == 1)
      total -= section_header_size (refs[k].s);
    g_ptr_array_remove (refs[k].s->entries, refs[k].e);
    dropped++;
  }
  g_free (refs);
  for (guint j = file->sections->len; j-- > 0;)
    if (((MaceCacheSection *)g_ptr_array_index (file->sections, j))
            ->entries->len
        == 0)
      g_ptr_array_remove_index (file->sections, j);
  return dropped;
}

/* ---- Files ------------------------------------------------------------ */

MaceCacheFile *
mace_cache_file_load (const char *path, MaceCacheKind kind,
                      MaceCacheProblemFunc report, void *user_data,
                      int *n_problems, bool *missing)
{
  uint8_t *data = NULL;
  size_t len = 0;
  GError *gerr = NULL;
  if (missing)
    *missing = false;
  if (n_problems)
    *n_problems = 0;
  if (!g_file_get_contents (path, (gchar **)&data, &len, &gerr)) {
    if (g_error_matches (gerr, G_FILE_ERROR, G_FILE_ERROR_NOENT)
        || g_error_matches (gerr, G_FILE_ERROR, G_FILE_ERROR_NOTDIR)) {
      if (missing)
        *missing = true;
    } else {
      Problems pr = { path, report, user_data, 0 };
      problem (&pr, MACE_CACHE_PROBLEM_CORRUPT, "cannot read: %s",
               gerr->message);
      if (n_problems)
        *n_problems = 1;
    }
    g_error_free (gerr);
    return mace_cache_file_new (kind);
  }
  MaceCacheFile *f = mace_cache_file_parse (data, len, kind, path, report,
                                            user_data, n_problems);
  g_free (data);
  return f;
}

static int
open_lock (const char *path, MaceError *err)
{
  char *lock = g_strconcat (path, ".lock", NULL);
  int fd = open (lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    mace_set_error (err, MACE_ERROR_IO, "%s: cannot create the lock file: %s",
                    lock, g_strerror (errno));
  g_free (lock);
  return fd;
}

bool
mace_cache_path_writable (const char *path, MaceError *err)
{
  char *dir = g_path_get_dirname (path);
  if (g_mkdir_with_parents (dir, 0755) != 0) {
    mace_set_error (err, MACE_ERROR_IO, "cannot create the directory %s: %s",
                    dir, g_strerror (errno));
    g_free (dir);
    return false;
  }
  g_free (dir);
  int fd = open_lock (path, err);
  if (fd < 0)
    return false;
  close (fd);
  return true;
}

int
mace_cache_lock (const char *path, MaceError *err)
{
  int fd = open_lock (path, err);
  if (fd < 0)
    return -1;
  /* Wait for the lock, but not forever: a hung writer elsewhere must not
   * hang this process; the cache write is then skipped. */
  int64_t deadline = g_get_monotonic_time () + LOCK_TIMEOUT_MS * 1000;
  while (flock (fd, LOCK_EX | LOCK_NB) != 0) {
    if ((errno != EWOULDBLOCK && errno != EINTR)
        || g_get_monotonic_time () > deadline) {
      mace_set_error (err, MACE_ERROR_IO, "%s.lock: cannot lock: %s", path,
                      errno == EWOULDBLOCK ? "held by another process for too "
                                             "long"
                                           : g_strerror (errno));
      close (fd);
      return -1;
    }
    g_usleep (2000);
  }
  return fd;
}

void
mace_cache_unlock (int fd)
{
  if (fd < 0)
    return;
  flock (fd, LOCK_UN);
  close (fd);
}

MaceStatus
mace_cache_file_merge_write (const char *path, MaceCacheFile *ours,
                             MaceError *err)
{
  int fd = mace_cache_lock (path, err);
  if (fd < 0)
    return MACE_ERROR_IO;
  /* What others wrote since we read it; damage there is dropped quietly
   * (whoever reads it next reports it if it is still there). */
  MaceCacheFile *disk
      = mace_cache_file_load (path, ours->kind, NULL, NULL, NULL, NULL);
  mace_cache_file_merge (disk, ours);
  const MaceCacheRules *rules = mace_cache_rules (ours->kind);
  int dropped = mace_cache_file_bound (
      disk, rules->max_bytes ? rules->max_bytes : MACE_CACHE_MAX_BYTES);
  if (dropped > 0)
    mace_log (MACE_LOG_INFO,
              "%s: over the size limit; dropped the %d least recently "
              "written entries",
              path, dropped);
  uint8_t *bytes = NULL;
  size_t len = 0;
  mace_cache_file_serialize (disk, &bytes, &len);
  MaceStatus st = mace_write_file_atomic (path, bytes, len, err);
  g_free (bytes);
  mace_cache_unlock (fd);
  if (st != MACE_OK) {
    mace_cache_file_free (disk);
    return st;
  }
  /* Keep what is now on disk, remembering which section is ours. */
  GPtrArray *tmp = ours->sections;
  ours->sections = disk->sections;
  disk->sections = tmp;
  for (guint i = 0; i < ours->sections->len; i++) {
    MaceCacheSection *s = g_ptr_array_index (ours->sections, i);
    MaceCacheSection *old = NULL;
    for (guint j = 0; j < tmp->len && !old; j++) {
      MaceCacheSection *o = g_ptr_array_index (tmp, j);
      if (o->n_keys == s->n_keys
          && strv_equal (s->n_keys, o->values, s->values))
        old = o;
    }
    if (old)
      s->current = old->current;
    s->replace_all = false;
    for (guint j = 0; j < s->entries->len; j++)
      ((MaceCacheEntry *)g_ptr_array_index (s->entries, j))->fresh = false;
  }
  /* The current section must stay even when it ended up empty. */
  for (guint j = 0; j < tmp->len; j++) {
    MaceCacheSection *o = g_ptr_array_index (tmp, j);
    if (o->current
        && !mace_cache_file_find_section (ours, o->n_keys, o->values)) {
      MaceCacheSection *c
          = mace_cache_section_new (o->n_keys, o->labels, o->values);
      c->current = true;
      g_ptr_array_add (ours->sections, c);
    }
  }
  mace_cache_file_free (disk);
  return MACE_OK;
}

char *
mace_cache_default_path (const char *file_name)
{
  /* The one place XDG_CACHE_HOME is read (read here rather than through
   * g_get_user_cache_dir(), which keeps the first value it saw). */
  const char *xdg = g_getenv ("XDG_CACHE_HOME");
  if (xdg && g_path_is_absolute (xdg))
    return g_build_filename (xdg, "gst-mace", file_name, NULL);
  return g_build_filename (g_get_home_dir (), ".cache", "gst-mace", file_name,
                           NULL);
}

/* ---- Crash markers ---------------------------------------------------- */

char *
mace_cache_marker_begin (const char *path)
{
  /* Unique within the process too: two caches on one path may load at
   * the same time.  No fsync: the marker only has to outlive a crash of
   * this process, not of the machine. */
  static gint seq;
  char *marker = g_strdup_printf ("%s.loading.%ld-%d", path, (long)getpid (),
                                  g_atomic_int_add (&seq, 1));
  const char *host = g_get_host_name ();
  int fd = open (marker, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    g_free (marker);
    return NULL;
  }
  size_t n = strlen (host);
  bool ok = write (fd, host, n) == (ssize_t)n;
  close (fd);
  if (!ok) {
    unlink (marker);
    g_free (marker);
    return NULL;
  }
  return marker;
}

void
mace_cache_marker_end (char *marker)
{
  if (!marker)
    return;
  unlink (marker);
  g_free (marker);
}

/* Finds (and removes, if asked) the markers of processes of this host
 * that have ended. */
static bool
foreach_dead_marker (const char *path, bool remove, char **first)
{
  char *dir = g_path_get_dirname (path);
  char *base = g_path_get_basename (path);
  char *prefix = g_strconcat (base, ".loading.", NULL);
  size_t plen = strlen (prefix);
  bool found = false;
  DIR *d = opendir (dir);
  struct dirent *de;
  while (d && (de = readdir (d)) != NULL) {
    if (strncmp (de->d_name, prefix, plen) != 0)
      continue;
    char *end = NULL;
    long pid = strtol (de->d_name + plen, &end, 10);
    if (!end || (*end != '\0' && *end != '-') || pid <= 0)
      continue;
    char *full = g_build_filename (dir, de->d_name, NULL);
    char *host = NULL;
    bool dead = false;
    /* A marker of another host (shared directory) cannot be checked. */
    if (g_file_get_contents (full, &host, NULL, NULL)
        && strcmp (host, g_get_host_name ()) == 0)
      dead = kill ((pid_t)pid, 0) != 0 && errno == ESRCH;
    g_free (host);
    if (dead) {
      if (!found && first)
        *first = g_strdup (full);
      found = true;
      if (remove)
        unlink (full);
    }
    g_free (full);
  }
  if (d)
    closedir (d);
  g_free (dir);
  g_free (base);
  g_free (prefix);
  return found;
}

bool
mace_cache_marker_crashed (const char *path, char **which)
{
  return foreach_dead_marker (path, false, which);
}

void
mace_cache_marker_clear_dead (const char *path)
{
  foreach_dead_marker (path, true, NULL);
}

/* ---- Dump ------------------------------------------------------------- */

typedef struct {
  FILE *out;
  GPtrArray *messages;
} DumpCtx;

static void
dump_problem (MaceCacheProblem p, const char *message, void *user_data)
{
  (void)p;
  DumpCtx *c = user_data;
  g_ptr_array_add (c->messages, g_strdup (message));
}

int
mace_cache_file_dump (const uint8_t *data, size_t len, const char *path,
                      FILE *out, bool problems_only)
{
  DumpCtx c = { out, g_ptr_array_new_with_free_func (g_free) };
  int n_problems = 0;
  MaceCacheFile *f = mace_cache_file_parse (data, len, 0, path, dump_problem,
                                            &c, &n_problems);
  guint n_entries = 0;
  uint64_t n_bytes = 0;
  for (guint i = 0; i < f->sections->len; i++) {
    MaceCacheSection *s = g_ptr_array_index (f->sections, i);
    n_entries += s->entries->len;
    for (guint j = 0; j < s->entries->len; j++)
      n_bytes += ((MaceCacheEntry *)g_ptr_array_index (s->entries, j))->size;
  }
  if (!problems_only) {
    fprintf (out, "file: %s (%zu bytes)\n", path, len);
    if (len >= 16 && memcmp (data, MACE_CACHE_MAGIC, 8) == 0)
      fprintf (out, "magic: %s\nformat version: %u\n", MACE_CACHE_MAGIC,
               rd32 (data + 8));
    fprintf (out, "kind: %s\nlibrary version: %s\nsections: %u\n",
             mace_cache_kind_name (f->kind), f->lib_version, f->sections->len);
    for (guint i = 0; i < f->sections->len; i++) {
      MaceCacheSection *s = g_ptr_array_index (f->sections, i);
      fprintf (out, "\nsection %u (%u entries)\n", i, s->entries->len);
      for (int k = 0; k < s->n_keys; k++)
        fprintf (out, "  %s: %s\n", s->labels[k], s->values[k]);
      for (guint j = 0; j < s->entries->len; j++) {
        MaceCacheEntry *e = g_ptr_array_index (s->entries, j);
        char sum[65];
        hex (e->sha256, sum);
        fprintf (out, "  entry %u\n", j);
        for (int k = 0; k < e->n_keys; k++) {
          const char *label = "key";
          if (f->kind == MACE_CACHE_KIND_PROGRAMS && e->n_keys == 3)
            label = k == 0 ? "program" : k == 1 ? "source sha256" : "options";
          else if (f->kind == MACE_CACHE_KIND_TUNING && k == 0)
            label = "kernel+shape";
          fprintf (out, "    %s: %s\n", label, e->keys[k]);
        }
        fprintf (out, "    size: %zu bytes\n    sha256: %s\n", e->size, sum);
        if (f->kind == MACE_CACHE_KIND_TUNING && e->size == 28) {
          fprintf (out,
                   "    lws: %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT
                   " %" G_GUINT64_FORMAT "\n    variant: %d\n",
                   rd64 (e->data), rd64 (e->data + 8), rd64 (e->data + 16),
                   (int32_t)rd32 (e->data + 24));
        }
        GDateTime *t = g_date_time_new_from_unix_utc (e->written_us / 1000000);
        char *ts = t ? g_date_time_format (t, "%Y-%m-%d %H:%M:%S UTC") : NULL;
        fprintf (out, "    written: %s\n", ts ? ts : "?");
        g_free (ts);
        if (t)
          g_date_time_unref (t);
      }
    }
    fprintf (out, "\n");
  }
  for (guint i = 0; i < c.messages->len; i++)
    fprintf (out, "problem: %s\n", (char *)g_ptr_array_index (c.messages, i));
  if (n_problems == 0)
    fprintf (out,
             "%s: OK (%s, %u sections, %u entries, %" G_GUINT64_FORMAT
             " bytes of data)\n",
             path, mace_cache_kind_name (f->kind), f->sections->len, n_entries,
             n_bytes);
  else
    fprintf (out, "%s: %d problem%s\n", path, n_problems,
             n_problems == 1 ? "" : "s");
  g_ptr_array_unref (c.messages);
  mace_cache_file_free (f);
  return n_problems;
}
