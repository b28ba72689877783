/* support.h - helpers shared by the tests. */
#ifndef SW_TEST_SUPPORT_H
#define SW_TEST_SUPPORT_H

#include <stddef.h>

/* Run a shell command; return its exit status (or -1), capturing stdout and
 * stderr together into a malloc'd string in *out (may be NULL). */
int sw_test_sh(char **out, const char *fmt, ...);
/* A fresh empty directory under the test's scratch area; returns its path
 * (static storage, valid until the next call). */
const char *sw_test_dir(const char *name);
/* Read a whole file into a malloc'd NUL-terminated string, or NULL. */
char *sw_test_slurp(const char *path, size_t *len);
/* Write a string to a file; 0 on success. */
int sw_test_write(const char *path, const char *text);

#endif
