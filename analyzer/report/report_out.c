/*
 * report_out.c — output files of report, diff and export (see report.h)
 *
 * Every verb that writes a file goes through here so that an error midway
 * (a failed query, a full disk) leaves the previous file untouched rather
 * than a truncated one: write to a temp file beside it, rename at the end.
 * A device or FIFO (-o /dev/stdout) is written in place: a rename would
 * replace the node itself; a symlink's target gets the new file.
 *
 * SPDX-License-Identifier: MIT
 */
#include "report/report.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The name the finished file takes: path itself, or the file a symlink
 * points to (renaming onto the link would replace the link). Owned by the
 * caller; NULL when out of memory. *is_reg: 0 when path exists and is not
 * a regular file (a device, a FIFO, /dev/stdout): that is written in
 * place, since renaming onto it would replace the device node itself. */
static char *report_out_target(const char *path, int *is_reg)
{
    struct stat st;
    char *real;
    *is_reg = 1;
    if (stat(path, &st) != 0) return strdup(path); /* new file, or a dangling link */
    if (!S_ISREG(st.st_mode)) *is_reg = 0;
    if (*is_reg && (real = realpath(path, NULL))) return real;
    return strdup(path);
}

int report_out_open(struct report_out *o, const char *path)
{
    size_t len;
    int is_reg, err;
    memset(o, 0, sizeof *o);
    if (!path || !strcmp(path, "-")) {
        o->f = stdout;
        return 0;
    }
    if (!(o->path = report_out_target(path, &is_reg))) return -ENOMEM;
    if (!is_reg) { /* no temp: o->tmp stays NULL */
        if (!(o->f = fopen(o->path, "wb"))) goto fail_open;
        return 0;
    }
    len = strlen(o->path) + 32;
    o->tmp = malloc(len);
    if (!o->tmp) goto fail_alloc;
    snprintf(o->tmp, len, "%s.tmp-%ld", o->path, (long)getpid());
    o->f = fopen(o->tmp, "wb");
    if (!o->f) goto fail_open;
    return 0;

fail_open:
    err = -errno;
    free(o->path);
    free(o->tmp);
    memset(o, 0, sizeof *o);
    return err;

fail_alloc:
    free(o->path);
    memset(o, 0, sizeof *o);
    return -ENOMEM;
}

int report_out_close(struct report_out *o, int ok)
{
    int rc = 0;
    if (!o->path) {
        if (ok && fflush(stdout) != 0) rc = -errno;
        return rc;
    }
    if (fclose(o->f) != 0 && ok) rc = -errno;
    if (o->tmp && ok && rc == 0 && rename(o->tmp, o->path) != 0) rc = -errno;
    if (o->tmp && (!ok || rc != 0)) unlink(o->tmp);
    free(o->path);
    free(o->tmp);
    memset(o, 0, sizeof *o);
    return rc;
}
