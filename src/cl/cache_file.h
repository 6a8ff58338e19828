/* SPDX-License-Identifier: Apache-2.0
 * The file format shared by the compiled-program cache and the tuning
 * cache: header, device sections, keyed entries, checksums; parsing with
 * damage isolation, the locked re-read + merge + atomic write, the crash
 * marker, and the text dump / verify used by `mace-run cache`.
 *
 * Layout (all integers little-endian):
 *
 *   header (96 bytes)
 *     0  magic "MACECACH"
 *     8  u32 format version (MACE_CACHE_FORMAT_VERSION)
 *    12  u32 kind (MaceCacheKind)
 *    16  char[32] library version (MACE_VERSION, NUL padded)
 *    48  u32 number of sections
 *    52  u32 reserved (0)
 *    56  u64 body size (bytes after the header)
 *    64  SHA-256 of bytes 0..63
 *   section, repeated
 *     u32 tag "SECT", u32 number of key pairs, u32 number of entries,
 *     u32 size of the key block; key block: pairs of (label, value), each a
 *     u32 length + bytes; SHA-256 of everything above
 *   entry, repeated (number of entries) after its section
 *     u32 tag "ENTR", u32 number of keys, u32 size of the key block,
 *     u32 reserved, u64 written (microseconds since the epoch), u64 data
 *     size; key block: strings, each a u32 length + bytes; SHA-256 of the
 *     data; SHA-256 of everything above (entry header checksum); data.
 *
 * Damage is isolated where the structure allows it: an entry whose data
 * checksum fails is dropped alone; a section or entry header that fails its
 * checksum, or a truncation, drops everything from there on; a bad file
 * header drops the file. */
#ifndef MACE_CL_CACHE_FILE_H
#define MACE_CL_CACHE_FILE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <glib.h>

#include "internal.h"

#define MACE_CACHE_MAGIC "MACECACH"
#define MACE_CACHE_FORMAT_VERSION 1u
#define MACE_CACHE_HEADER_SIZE 96u
/* Files are kept under this size; least recently written entries go. */
#define MACE_CACHE_MAX_BYTES (64u * 1024u * 1024u)
/* A cache never grows past this many sections / keys / entries per
 * section: anything larger is treated as damage. */
#define MACE_CACHE_MAX_KEYS 64u

typedef enum {
  MACE_CACHE_KIND_PROGRAMS = 1, /* mace-cl-compiled-program.bin */
  MACE_CACHE_KIND_TUNING = 2,   /* mace-cl-tuned-params.bin */
} MaceCacheKind;

typedef struct {
  int n_keys;
  char **keys;   /* g_malloc'ed strings */
  uint8_t *data; /* g_malloc'ed, size bytes */
  size_t size;
  uint8_t sha256[32];
  int64_t written_us;
  bool fresh; /* created in this process, not yet written */
} MaceCacheEntry;

typedef struct {
  int n_keys;
  char **labels; /* e.g. "driver version" */
  char **values;
  GPtrArray *entries; /* MaceCacheEntry* */
  /* Entries this process dropped (driver refused them): removed from the
   * file on the next merge if still identical there (keys + checksum). */
  GPtrArray *removed; /* MaceCacheEntry* (no data) */
  bool current;       /* the section of this process's device */
  bool replace_all;   /* rebuild mode: only this process's entries survive */
} MaceCacheSection;

typedef struct {
  MaceCacheKind kind;
  uint32_t format_version;
  char lib_version[33];
  GPtrArray *sections; /* MaceCacheSection* */
} MaceCacheFile;

/* Rules that depend on the kind of cache. */
typedef struct {
  /* Bit i: section key i is part of the device's identity (a section with
   * the same identity but other keys is an obsolete driver). */
  uint32_t section_identity_mask;
  /* Bit i: entry key i is part of what a fresh entry supersedes (e.g.
   * program name + options: a new source hash replaces the old one). */
  uint32_t entry_identity_mask;
  uint64_t max_bytes; /* 0 = MACE_CACHE_MAX_BYTES */
} MaceCacheRules;

/* Rules for each kind. */
const MaceCacheRules *mace_cache_rules (MaceCacheKind kind);
/* "compiled programs" / "tuned parameters". */
const char *mace_cache_kind_name (MaceCacheKind kind);

/* Why a parse dropped something. */
typedef enum {
  MACE_CACHE_PROBLEM_CORRUPT = 0, /* checksum, truncation, bad magic... */
  MACE_CACHE_PROBLEM_VERSION,     /* another format version: refused */
  MACE_CACHE_PROBLEM_KIND,        /* the other kind of cache file */
} MaceCacheProblem;
typedef void (*MaceCacheProblemFunc) (MaceCacheProblem problem,
                                      const char *message, void *user_data);

MaceCacheFile *mace_cache_file_new (MaceCacheKind kind);
void mace_cache_file_free (MaceCacheFile *file);
/* Parses bytes (kind 0 accepts either kind).  Never fails: damaged parts
 * are dropped and reported through report (may be NULL), with `path` in
 * the messages; a file whose header is unusable comes back empty.  The
 * number of problems reported goes to *n_problems (may be NULL). */
MaceCacheFile *mace_cache_file_parse (const uint8_t *data, size_t len,
                                      MaceCacheKind kind, const char *path,
                                      MaceCacheProblemFunc report,
                                      void *user_data, int *n_problems);
/* Serialises; *out is g_malloc'ed. */
void mace_cache_file_serialize (const MaceCacheFile *file, uint8_t **out,
                                size_t *len);
/* Bytes a section / entry takes in the file. */
size_t mace_cache_entry_file_size (const MaceCacheEntry *e);

/* Sections and entries. */
MaceCacheSection *mace_cache_section_new (int n_keys, char **labels,
                                          char **values);
/* Section with exactly these values (labels ignored), or NULL. */
MaceCacheSection *mace_cache_file_find_section (const MaceCacheFile *file,
                                                int n_keys,
                                                char *const *values);
/* Adds a section (the file takes it). */
void mace_cache_file_add_section (MaceCacheFile *file,
                                  MaceCacheSection *section);
/* A new entry; keys and data are copied; sha256 computed. */
MaceCacheEntry *mace_cache_entry_new (int n_keys, const char *const *keys,
                                      const void *data, size_t size,
                                      int64_t written_us);
void mace_cache_entry_free (MaceCacheEntry *e);
/* Index of the entry with exactly these keys in section, or -1. */
int mace_cache_section_find_entry (const MaceCacheSection *s, int n_keys,
                                   const char *const *keys);
/* Replaces (or adds) the entry with e's keys; the section takes e. */
void mace_cache_section_put (MaceCacheSection *s, MaceCacheEntry *e);
/* Removes entry i; when tombstone is true it is remembered so the next
 * merge removes it from the file too. */
void mace_cache_section_remove (MaceCacheSection *s, guint i, bool tombstone);
/* True when some entry is fresh or some tombstone is pending. */
bool mace_cache_file_dirty (const MaceCacheFile *file);

/* SHA-256 of bytes as 64 hex digits + NUL. */
void mace_sha256_hex (const void *data, size_t len, char out[65]);
/* Microseconds since the epoch. */
int64_t mace_cache_now_us (void);

/* Reads and parses `path`.  A missing file gives an empty file with
 * *missing = true; an unreadable one is reported as a problem.  Never
 * NULL. */
MaceCacheFile *mace_cache_file_load (const char *path, MaceCacheKind kind,
                                     MaceCacheProblemFunc report,
                                     void *user_data, int *n_problems,
                                     bool *missing);

/* Under an exclusive lock on `<path>.lock`: re-reads `path`, merges `ours`
 * into it (see cache_file.c for the rules), keeps the result under the size
 * bound, writes it atomically.  On success `ours` is replaced by the merged
 * content, with nothing fresh.  On failure `ours` is untouched. */
MaceStatus mace_cache_file_merge_write (const char *path, MaceCacheFile *ours,
                                        MaceError *err);
/* Merges `ours` into `disk` (the part of merge_write that needs no file;
 * exposed for tests and the fuzzer). */
void mace_cache_file_merge (MaceCacheFile *disk, const MaceCacheFile *ours);
/* Drops least recently written entries until the file fits max_bytes.
 * Returns how many were dropped. */
int mace_cache_file_bound (MaceCacheFile *file, uint64_t max_bytes);

/* Takes the exclusive advisory lock on `<path>.lock` (waiting up to 30 s
 * for another process).  Returns the lock's fd, or -1 with err set. */
int mace_cache_lock (const char *path, MaceError *err);
void mace_cache_unlock (int fd);
/* Whether `path`'s directory can take new files: creates the directory if
 * needed and the lock file.  On failure fills err with the reason. */
bool mace_cache_path_writable (const char *path, MaceError *err);
/* $XDG_CACHE_HOME/gst-mace/<file>, else ~/.cache/gst-mace/<file>
 * (g_malloc'ed).  The one place XDG_CACHE_HOME is read. */
char *mace_cache_default_path (const char *file_name);

/* Crash markers: `<path>.loading.<pid>-<n>` holding the host name, created
 * before a cached binary is handed to the driver and removed after.
 * marker_begin returns the marker's path (NULL if it cannot be written);
 * marker_end removes and frees it. */
char *mace_cache_marker_begin (const char *path);
void mace_cache_marker_end (char *marker);
/* Whether a marker of a process on this host that no longer runs is left
 * beside `path` (a crash while loading).  Fills which (if not NULL) with
 * the marker's path (g_malloc'ed). */
bool mace_cache_marker_crashed (const char *path, char **which);
/* Removes the dead markers beside `path`. */
void mace_cache_marker_clear_dead (const char *path);

/* Text dump of a cache file (either kind): header, sections with their
 * keys, entries with keys, sizes, checksums, written times, then every
 * problem found.  With problems_only, only the problems and a one-line
 * summary are printed (`cache verify`).  Returns the number of problems
 * (0 = the file verifies). */
int mace_cache_file_dump (const uint8_t *data, size_t len, const char *path,
                          FILE *out, bool problems_only);

#endif
