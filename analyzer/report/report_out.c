/*
 * report_out.c — output files of report, diff and export (see report.h)
 *
 * Every verb that writes a file goes through here so that an error midway
 * (a failed query, a full disk) leaves the previous file untouched rather
 * than a truncated one: write to a temp file beside it, rename at the end.
 *
 * SPDX-License-Identifier: MIT
 */
#include "report/report.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int report_out_open(struct report_out *o, const char *path)
{
    size_t len;
    memset(o, 0, sizeof *o);
    if (!path || !strcmp(path, "-")) {
        o->f = stdout;
        return 0;
    }
    len = strlen(path) + 32;
    o->path = strdup(path);
    o->tmp = malloc(len);
    if (!o->path || !o->tmp) goto fail_alloc;
    snprintf(o->tmp, len, "%s.tmp-%ld", path, (long)getpid());
    o->f = fopen(o->tmp, "wb");
    if (!o->f) {
        int err = -errno;
        free(o->path);
        free(o->tmp);
        memset(o, 0, sizeof *o);
        return err;
    }
    return 0;

fail_alloc:
    free(o->path);
    free(o->tmp);
    memset(o, 0, sizeof *o);
    return -ENOMEM;
}

int report_out_close(struct report_out *o, int ok)
{
    int rc = 0;
    if (!o->tmp) {
        if (ok && fflush(stdout) != 0) rc = -errno;
        return rc;
    }
    if (fclose(o->f) != 0 && ok) rc = -errno;
    if (ok && rc == 0 && rename(o->tmp, o->path) != 0) rc = -errno;
    if (!ok || rc != 0) unlink(o->tmp);
    free(o->path);
    free(o->tmp);
    memset(o, 0, sizeof *o);
    return rc;
}
