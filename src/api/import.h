/*
 * import.h - bulk import of members, orders (historic backfill) and ledger
 * entries from CSV or NDJSON, streamed record by record, and export of
 * members and the ledger. The CLI (`fidelis import|export`) and the API
 * (/v1/imports/{kind}, /v1/exports/{kind}) share this code. Every row goes
 * through the same validation as the API; rows are idempotent (a re-import
 * changes nothing); rejected rows are reported with line and reason and
 * leave nothing half-applied.
 */
#ifndef FD_IMPORT_H
#define FD_IMPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/program.h"
#include "store/keys.h"
#include "store/store.h"

typedef enum { FD_IMPORT_MEMBERS, FD_IMPORT_ORDERS, FD_IMPORT_LEDGER } fd_import_kind;

/* Member rows are upserted by this many threads at once, so that the writer
 * commits them in groups; each holds a reader connection while it works. */
#define FD_IMPORT_THREADS 32

typedef struct fd_import_report {
    int64_t rows, applied, duplicates, rejected;
    int64_t updated; /* members: rows that changed a member already there */
    json_t *errors; /* [{"line","status","error"}], at most 1,000 kept */
} fd_import_report;

typedef struct fd_import_options {
    fd_import_kind kind;
    bool ndjson;       /* else CSV with a header row */
    bool award_points; /* orders: false for a backfill without points */
    bool progress;     /* print progress to stderr */
    FILE *rejects;     /* also print each rejected row here (may be NULL) */
} fd_import_options;

int fd_import_kind_parse(const char *s, fd_import_kind *out);

/* Imports every record of in. report->errors is allocated (caller decrefs). */
int fd_import(fd_store *s, const fd_program *p, const fd_principal *who, FILE *in,
              const fd_import_options *o, fd_import_report *report);

/* Writes members or the ledger of program p as CSV or NDJSON. */
int fd_export(fd_store *s, const fd_program *p, const char *kind, bool ndjson, FILE *out);

/* Writes the members of a segment, like members. FD_ENOTFOUND for no such segment. */
int fd_export_segment(fd_store *s, const fd_program *p, int64_t segment_id, bool ndjson, FILE *out);

/* Writes one CSV cell, quoted, with quotes doubled; a text starting with
 * = + - @ (not a number) gets a leading ' so spreadsheets do not run it. */
void fd_csv_cell(FILE *out, const char *s, bool last);

#endif
