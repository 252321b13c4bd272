/*
 * db_schema.c — the database schema text, embedded from schema.sql
 *
 * schema.sql is the one source of the schema (docs/schema.md describes it);
 * it is pulled in verbatim with the assembler's .incbin so that the sqlite3
 * shell and the binary read the same file. The assembler finds it through
 * mtcore's include directory (analyzer/). Touch this file after editing
 * schema.sql: the compiler's dependency scan does not see .incbin.
 *
 * SPDX-License-Identifier: MIT
 */
#include "db/db.h"

__asm__(".section .rodata\n"
        ".global db_schema_sql\n"
        ".type db_schema_sql, @object\n"
        "db_schema_sql:\n"
        ".incbin \"db/schema.sql\"\n"
        ".byte 0\n"
        ".size db_schema_sql, . - db_schema_sql\n"
        ".previous\n");
