/*
 * tui_fmt.c — number and time formatting for the terminal view
 *
 * Columns are narrow at 80x24: sizes print as 4 significant characters
 * with a binary suffix ("12.3M"), counts with a decimal one ("1.2k"); the
 * `x` key switches every figure to exact digits so that a person (or a
 * test) can compare them with the database. Docs: docs/tui.md.
 *
 * SPDX-License-Identifier: MIT
 */
#include "tui.h"

#include <stdio.h>

void tui_fmt_bytes(char *buf, size_t len, uint64_t v, int exact)
{
    static const char suffix[] = "BKMGTPE";
    if (exact || v < 1024) {
        snprintf(buf, len, exact ? "%llu" : "%lluB", (unsigned long long)v);
        return;
    }
    double d = (double)v;
    int i = 0;
    while (d >= 1024 && i < 6) d /= 1024, i++;
    snprintf(buf, len, d < 10 ? "%.2f%c" : d < 100 ? "%.1f%c" : "%.0f%c", d, suffix[i]);
}

void tui_fmt_count(char *buf, size_t len, uint64_t v, int exact)
{
    static const char suffix[] = " kMGTPE";
    if (exact || v < 10000) {
        snprintf(buf, len, "%llu", (unsigned long long)v);
        return;
    }
    double d = (double)v;
    int i = 0;
    while (d >= 1000 && i < 6) d /= 1000, i++;
    snprintf(buf, len, d < 10 ? "%.2f%c" : d < 100 ? "%.1f%c" : "%.0f%c", d, suffix[i]);
}

void tui_fmt_time(char *buf, size_t len, uint64_t ns)
{
    double s = (double)ns / 1e9;
    if (s < 60) snprintf(buf, len, "%.3fs", s);
    else if (s < 3600) snprintf(buf, len, "%dm%02ds", (int)s / 60, (int)s % 60);
    else snprintf(buf, len, "%dh%02dm", (int)s / 3600, ((int)s / 60) % 60);
}
