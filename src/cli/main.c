/*
 * main.c - the `fidelis` command: serve, init, migrate, key create, check,
 * expire. Each command has --help.
 */
#include <curl/curl.h>
#include <signal.h>
#include <stddef.h>
#include <unistd.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/import.h"
#include "api/server.h"
#include "core/calendar.h"
#include "core/clv.h"
#include "store/clv_data.h"
#include "store/tiering.h"
#include "base/fd.h"
#include "core/program.h"
#include "core/role.h"
#include "jobs/expiry.h"
#include "jobs/webhooks.h"
#include "store/audit.h"
#include "store/keys.h"
#include "store/ledger.h"
#include "store/programs.h"
#include "store/schema.h"
#include "store/store.h"

static const char USAGE[] =
    "usage: fidelis <command> [options]\n"
    "\n"
    "commands:\n"
    "  serve        run the HTTP API server\n"
    "  init         create a program and its first admin key\n"
    "  migrate      apply schema migrations and print the schema version\n"
    "  key create   create an API key for a program\n"
    "  check        verify the ledger invariants; exit 1 on any violation\n"
    "  expire       run the pending-maturation and expiry job now\n"
    "  import       import members, orders or ledger entries (CSV or NDJSON)\n"
    "  export       export members or the ledger (CSV or NDJSON)\n"
    "  clv          fit BG/NBD + Gamma-Gamma and print the models and the top members\n"
    "\n"
    "Every command takes --db PATH (default: $FIDELIS_DB, else ./fidelis.db) and\n"
    "--config FILE (lines \"name = value\", e.g. \"listen = 0.0.0.0:8080\"); every\n"
    "setting can also come from FIDELIS_<NAME> (FIDELIS_WEBHOOK_TIMEOUT_MS=2000).\n"
    "Run `fidelis <command> --help` for its options.\n";

typedef struct opts {
    const char *db, *listen, *name, *currency, *timezone, *role, *label, *now;
    const char *format, *report, *segment, *config, *as_of, *web;
    int horizon_weeks;
    bool no_points;
    int threads, job_interval;
    fd_webhook_settings webhooks;
    int64_t program, member;
    bool demo, help;
} opts;

/* Every option, its kind and where it goes. */
typedef struct option_spec {
    const char *name;
    char kind; /* 's' string, 'i' int, 'l' int64, 'f' flag */
    size_t offset;
} option_spec;

#define OPT(name, kind, field)                                                                     \
    {                                                                                              \
        name, kind, offsetof(opts, field)                                                          \
    }
static const option_spec OPTIONS[] = {
    OPT("--help", 'f', help),
    OPT("-h", 'f', help),
    OPT("--demo", 'f', demo),
    OPT("--db", 's', db),
    OPT("--listen", 's', listen),
    OPT("--name", 's', name),
    OPT("--currency", 's', currency),
    OPT("--timezone", 's', timezone),
    OPT("--role", 's', role),
    OPT("--label", 's', label),
    OPT("--now", 's', now),
    OPT("--config", 's', config),
    OPT("--as-of", 's', as_of),
    OPT("--horizon-weeks", 'i', horizon_weeks),
    OPT("--format", 's', format),
    OPT("--report", 's', report),
    OPT("--no-points", 'f', no_points),
    OPT("--threads", 'i', threads),
    OPT("--web", 's', web),
    OPT("--job-interval", 'i', job_interval),
    OPT("--program", 'l', program),
    OPT("--member", 'l', member),
    OPT("--webhook-timeout-ms", 'i', webhooks.timeout_ms),
    OPT("--webhook-backoff-ms", 'i', webhooks.backoff_ms),
    OPT("--webhook-max-attempts", 'i', webhooks.max_attempts),
    OPT("--webhook-interval-ms", 'i', webhooks.interval_ms),
    OPT("--webhook-allow-private", 'f', webhooks.allow_private),
};

static const option_spec *find_option(const char *name)
{
    for (size_t k = 0; k < sizeof OPTIONS / sizeof OPTIONS[0]; k++)
        if (!strcmp(name, OPTIONS[k].name)) return &OPTIONS[k];
    return NULL;
}

/* Sets an option from text (flags, environment, configuration file). */
static void set_option(opts *o, const option_spec *spec, const char *v)
{
    char *field = (char *)o + spec->offset;
    if (spec->kind == 'f')
        *(bool *)field = !v || !strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes");
    else if (spec->kind == 's')
        *(const char **)field = v;
    else if (spec->kind == 'i')
        *(int *)field = atoi(v);
    else
        *(int64_t *)field = atoll(v);
}

/* Trims blanks and line ends from both sides of s, in place. */
static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    for (char *e = s + strlen(s); e > s && strchr(" \t\r\n", e[-1]); e--)
        e[-1] = 0;
    return s;
}

/* Lines "name = value" ('#' starts a comment), name as the flag without "--".
 * The file is read whole into a static buffer (64 KiB at most) that the
 * option strings point into, so they live as long as the process. */
static int read_config(const char *path, opts *o)
{
    static char text[65536];
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        return FD_EINVAL;
    }
    size_t len = fread(text, 1, sizeof text, f);
    bool too_big = len == sizeof text;
    fclose(f);
    if (too_big) {
        fprintf(stderr, "fidelis: %s: larger than %zu bytes\n", path, sizeof text - 1);
        return FD_EINVAL;
    }
    text[len] = 0;
    int n = 0;
    for (char *line = text, *next; line; line = next) {
        n++;
        next = strchr(line, '\n');
        if (next) *next++ = 0;
        char *hash = strchr(line, '#'), *eq = strchr(line, '=');
        if (hash) *hash = 0;
        if (eq && hash && eq > hash) eq = NULL;
        if (eq) *eq = 0;
        char *k = trim(line), *v = eq ? trim(eq + 1) : NULL;
        if (!*k) continue;
        char flag[80];
        snprintf(flag, sizeof flag, "--%.70s", k);
        const option_spec *spec = find_option(flag);
        if (!spec || (!v && spec->kind != 'f')) {
            fprintf(stderr, "fidelis: %s:%d: unknown setting or missing value: %s\n", path, n, k);
            return FD_EINVAL;
        }
        set_option(o, spec, v);
    }
    return FD_OK;
}

/* Settings come from, lowest first: defaults, the --config file, the
 * environment (FIDELIS_ + the flag's name in capitals, dashes as
 * underscores: FIDELIS_DB, FIDELIS_WEBHOOK_TIMEOUT_MS), the flags. */
static int parse_opts(int argc, char **argv, opts *o)
{
    *o = (opts){.db = "fidelis.db",
                .listen = "127.0.0.1:8080",
                .web = "web",
                .threads = 16,
                .job_interval = 60,
                .program = 1,
                .name = "Demo",
                .currency = "EUR",
                .timezone = "Europe/Berlin",
                .label = "cli",
                .horizon_weeks = 52};
    fd_webhook_settings_default(&o->webhooks);
    const char *config = NULL; /* the last --config wins, as for every flag */
    for (int i = 0; i + 1 < argc; i++)
        if (!strcmp(argv[i], "--config")) config = argv[i + 1];
    if (config && read_config(config, o)) return FD_EINVAL;
    for (size_t k = 0; k < sizeof OPTIONS / sizeof OPTIONS[0]; k++) {
        char env[80] = "FIDELIS_";
        size_t e = strlen(env);
        for (const char *c = OPTIONS[k].name + 2; *c && e < sizeof env - 1; c++)
            env[e++] = *c == '-' ? '_' : (char)(*c >= 'a' && *c <= 'z' ? *c - 32 : *c);
        env[e] = 0;
        const char *v = OPTIONS[k].name[1] == '-' ? getenv(env) : NULL;
        if (v && *v && strcmp(OPTIONS[k].name, "--help") && strcmp(OPTIONS[k].name, "--config"))
            set_option(o, &OPTIONS[k], v);
    }
    for (int i = 0; i < argc; i++) {
        const option_spec *spec = find_option(argv[i]);
        if (!spec) {
            fprintf(stderr, "fidelis: unknown option %s\n", argv[i]);
            return FD_EINVAL;
        }
        if (spec->kind == 'f') {
            set_option(o, spec, NULL);
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "fidelis: %s needs a value\n", argv[i]);
            return FD_EINVAL;
        }
        set_option(o, spec, argv[++i]);
    }
    if (o->threads < 1 || o->threads > 256 || o->job_interval < 1) {
        fprintf(stderr, "fidelis: --threads must be 1..256 and --job-interval >= 1\n");
        return FD_EINVAL;
    }
    if (o->webhooks.timeout_ms < 10 || o->webhooks.backoff_ms < 1 || o->webhooks.max_attempts < 1 ||
        o->webhooks.interval_ms < 10) {
        fprintf(stderr, "fidelis: webhook settings out of range\n");
        return FD_EINVAL;
    }
    return FD_OK;
}

static int open_store(const opts *o, int readers, fd_store **s)
{
    int rc = fd_store_open(o->db, readers, s);
    if (rc) fprintf(stderr, "fidelis: cannot open database %s: %s\n", o->db, fd_strerror(rc));
    return rc;
}

/* init / key create run as write jobs like everything else. */
typedef struct setup_job {
    fd_program program;
    bool create_program;
    fd_role role;
    int64_t member;
    const char *label;
    char key[FD_KEY_MAX], key_id[24];
} setup_job;

static int setup_job_run(fd_db *db, void *arg)
{
    setup_job *j = arg;
    int64_t now = fd_now();
    int rc = FD_OK;
    if (j->create_program)
        rc = fd_program_insert(db, &j->program, now);
    else
        rc = fd_program_load(db, j->program.id, &j->program);
    if (!rc)
        rc = fd_key_create(db, j->program.id, j->role, j->member, j->label, "cli", now, j->key,
                           j->key_id);
    if (!rc)
        rc =
            fd_audit_add(db, j->program.id, "cli", "key.create", "key", j->key_id, NULL, NULL, now);
    return rc;
}

static int new_program(const opts *o, fd_program *p)
{
    const char *field;
    fd_program_defaults(p);
    snprintf(p->name, sizeof p->name, "%s", o->name);
    snprintf(p->currency, sizeof p->currency, "%s", o->currency);
    snprintf(p->timezone, sizeof p->timezone, "%s", o->timezone);
    if (fd_currency_exponent(p->currency, &p->exponent) || fd_program_validate(p, &field)) {
        fprintf(stderr, "fidelis: invalid program settings (currency %s)\n", o->currency);
        return FD_EINVAL;
    }
    return FD_OK;
}

static int run_setup(fd_store *s, setup_job *j)
{
    int rc = fd_store_write(s, setup_job_run, j);
    if (rc) fprintf(stderr, "fidelis: %s\n", fd_strerror(rc));
    return rc;
}

static int cmd_init(const opts *o)
{
    if (o->help) {
        printf("usage: fidelis init [--db PATH] [--name NAME] [--currency EUR] "
               "[--timezone Europe/Berlin]\n"
               "Creates a program and prints its first admin API key (shown once).\n");
        return 0;
    }
    setup_job j = {.create_program = true, .role = FD_ROLE_ADMIN, .label = "init"};
    fd_store *s;
    if (new_program(o, &j.program) || open_store(o, 1, &s)) return 1;
    int rc = run_setup(s, &j);
    fd_store_close(s);
    if (rc) return 1;
    printf("program %lld created (%s, %s)\nadmin key: %s\n", (long long)j.program.id,
           j.program.name, j.program.currency, j.key);
    return 0;
}

static int cmd_key(int argc, char **argv, const opts *o)
{
    bool help = o->help;
    if (help || argc < 1 || strcmp(argv[0], "create")) {
        printf("usage: fidelis key create --role admin|marketer|analyst|pos|member "
               "[--program ID] [--member ID] [--label TEXT] [--db PATH]\n"
               "Creates an API key and prints it (shown once; stored hashed).\n");
        return help ? 0 : 2;
    }
    setup_job j = {.program.id = o->program, .member = o->member, .label = o->label};
    if (!o->role || fd_role_parse(o->role, &j.role)) {
        fprintf(stderr, "fidelis: --role must be admin, marketer, analyst, pos or member\n");
        return 2;
    }
    if ((j.role == FD_ROLE_MEMBER) != (o->member > 0)) {
        fprintf(stderr, "fidelis: --member ID is required for, and only for, role member\n");
        return 2;
    }
    fd_store *s;
    if (open_store(o, 1, &s)) return 1;
    int rc = run_setup(s, &j);
    fd_store_close(s);
    if (rc) return 1;
    printf("%s\n", j.key);
    return 0;
}

static int cmd_migrate(const opts *o)
{
    if (o->help) {
        printf("usage: fidelis migrate [--db PATH]\nApplies pending schema migrations.\n");
        return 0;
    }
    fd_db *db;
    int64_t version;
    if (fd_db_open(o->db, &db)) return 1;
    int rc = fd_schema_migrate(db, &version);
    fd_db_close(db);
    if (rc) {
        fprintf(stderr, "fidelis: migration failed: %s\n", fd_strerror(rc));
        return 1;
    }
    printf("schema version %lld\n", (long long)version);
    return 0;
}

static void print_violation(const char *msg, void *arg)
{
    (void)arg;
    printf("VIOLATION %s\n", msg);
}

static int cmd_check(const opts *o)
{
    if (o->help) {
        printf("usage: fidelis check [--db PATH]\n"
               "Proves for every member: balance = sum of journal = sum of open lots (or 0 when\n"
               "negative), pending = pending lots, last balance_after = balance. Exit 1 on any\n"
               "violation.\n");
        return 0;
    }
    fd_store *s;
    if (open_store(o, 1, &s)) return 1;
    fd_db *db = fd_store_reader(s);
    int64_t members = 0, violations = 0;
    int rc = fd_ledger_check(db, print_violation, NULL, &members, &violations);
    fd_store_release(s, db);
    fd_store_close(s);
    if (rc) {
        fprintf(stderr, "fidelis: check failed: %s\n", fd_strerror(rc));
        return 1;
    }
    printf("checked %lld members: %lld violations\n", (long long)members, (long long)violations);
    return violations ? 1 : 0;
}

static int cmd_expire(const opts *o)
{
    if (o->help) {
        printf("usage: fidelis expire [--db PATH]"
#ifdef FIDELIS_TESTING
               " [--now ISO8601]"
#endif
               "\nActivates pending points whose window ended and expires due lots, now.\n");
        return 0;
    }
    int64_t now = fd_now();
#ifdef FIDELIS_TESTING
    if (o->now && fd_time_parse(o->now, &now)) {
        fprintf(stderr, "fidelis: --now must be ISO 8601\n");
        return 2;
    }
#else
    if (o->now) {
        fprintf(stderr, "fidelis: --now exists only in test builds\n");
        return 2;
    }
#endif
    fd_store *s;
    if (open_store(o, 1, &s)) return 1;
    int64_t matured = 0, expired = 0;
    int rc = fd_jobs_expiry_run(s, now, &matured, &expired);
    fd_store_close(s);
    if (rc) {
        fprintf(stderr, "fidelis: expiry failed: %s\n", fd_strerror(rc));
        return 1;
    }
    printf("matured %lld lots, expired %lld lots\n", (long long)matured, (long long)expired);
    return 0;
}

/* --demo: make sure a program exists and print a fresh admin key for it. */
static int demo_key(fd_store *s)
{
    fd_db *db = fd_store_reader(s);
    int64_t programs = 0;
    int rc = fd_program_count(db, &programs);
    fd_store_release(s, db);
    if (rc) return rc;
    setup_job j = {
        .program.id = 1, .create_program = programs == 0, .role = FD_ROLE_ADMIN, .label = "demo"};
    if (j.create_program) fd_program_defaults(&j.program);
    if ((rc = run_setup(s, &j))) return rc;
    printf("%s program %lld \"%s\" (%s)\nadmin key: %s\n",
           j.create_program ? "created demo" : "using", (long long)j.program.id, j.program.name,
           j.program.currency, j.key);
    return FD_OK;
}

static int cmd_serve(const opts *o)
{
    if (o->help) {
        printf("usage: fidelis serve [--db PATH] [--listen HOST:PORT] [--threads N]\n"
               "                     [--job-interval SECONDS] [--demo] [--web DIR]\n"
               "                     [--webhook-timeout-ms 5000] [--webhook-backoff-ms 1000]\n"
               "                     [--webhook-max-attempts 15] [--webhook-interval-ms 1000]\n"
               "                     [--webhook-allow-private]\n"
               "Serves the API (default 127.0.0.1:8080, $FIDELIS_LISTEN) and the web pages of\n"
               "--web DIR (default ./web: /member.html, /admin.html). --threads is the number of\n"
               "request workers that run writes and long reads (default 16; a network thread per\n"
               "core answers quick reads). --demo creates a demo program if the database has none\n"
               "and prints a new admin key.\n");
        return 0;
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* threads inherit: only sigwait sees them */
    signal(SIGPIPE, SIG_IGN);

    fd_store *s;
    if (open_store(o, o->threads + fd_server_network_threads() + 2, &s)) return 1;
    if (o->demo && demo_key(s)) {
        fd_store_close(s);
        return 1;
    }
    fd_server_config cfg = {o->listen, o->threads, o->web};
    fd_server *srv;
    fd_expiry_thread *jobs = NULL;
    int port;
    if (fd_server_start(&cfg, s, &srv, &port)) {
        fd_store_close(s);
        return 1;
    }
    fd_webhook_worker *hooks = NULL;
    if (fd_expiry_thread_start(s, o->job_interval, &jobs) ||
        fd_webhook_worker_start(s, &o->webhooks, &hooks)) {
        fd_server_stop(srv);
        fd_expiry_thread_stop(jobs);
        fd_store_close(s);
        return 1;
    }
    char host[64];
    snprintf(host, sizeof host, "%.*s", (int)(strrchr(o->listen, ':') - o->listen), o->listen);
    printf("fidelis: listening on http://%s:%d (db %s)\n", host, port, o->db);
    fflush(stdout);
    int sig;
    sigwait(&set, &sig);
    fd_log("info", "msg=\"shutting down\" signal=%d", sig);
    fd_server_stop(srv);
    fd_webhook_worker_stop(hooks);
    fd_expiry_thread_stop(jobs);
    fd_store_close(s);
    return 0;
}

static bool ndjson_format(const opts *o, const char *file)
{
    if (o->format) return !strcmp(o->format, "ndjson");
    const char *dot = file ? strrchr(file, '.') : NULL;
    return dot && (!strcmp(dot, ".ndjson") || !strcmp(dot, ".jsonl"));
}

/* import members|orders|ledger FILE */
static int cmd_import(int argc, char **argv, const opts *o)
{
    fd_import_options io = {.award_points = !o->no_points, .progress = isatty(2)};
    bool help = o->help;
    if (help || argc < 2 || fd_import_kind_parse(argv[0], &io.kind)) {
        printf(
            "usage: fidelis import members|orders|ledger FILE [--format csv|ndjson] [--no-points]\n"
            "                     [--program ID] [--report REJECTS.txt] [--db PATH]\n"
            "Streams FILE (\"-\" for stdin) through the API's validation; rejected rows are "
            "listed\n"
            "with their line and reason; re-importing the same file changes nothing.\n");
        return help ? 0 : 2;
    }
    if (o->format && strcmp(o->format, "csv") && strcmp(o->format, "ndjson")) {
        fprintf(stderr, "fidelis: --format is csv or ndjson\n");
        return 2;
    }
    io.ndjson = ndjson_format(o, argv[1]);
    FILE *in = strcmp(argv[1], "-") ? fopen(argv[1], "r") : stdin;
    if (!in) {
        perror(argv[1]);
        return 1;
    }
    io.rejects = o->report ? fopen(o->report, "w") : stderr;
    fd_store *s;
    fd_program p;
    if (open_store(o, FD_IMPORT_THREADS + 1, &s)) return 1;
    fd_db *db = fd_store_reader(s);
    int rc = fd_program_load(db, o->program, &p);
    fd_store_release(s, db);
    if (rc) {
        fprintf(stderr, "fidelis: no program %lld\n", (long long)o->program);
        fd_store_close(s);
        return 1;
    }
    fd_principal who = {.program_id = p.id, .role = FD_ROLE_ADMIN};
    snprintf(who.actor, sizeof who.actor, "import");
    fd_import_report rep;
    int64_t t0 = fd_monotonic_us();
    rc = fd_import(s, &p, &who, in, &io, &rep);
    double secs = (double)(fd_monotonic_us() - t0) / 1e6;
    fd_store_close(s);
    if (in != stdin) fclose(in);
    if (io.rejects && io.rejects != stderr) fclose(io.rejects);
    printf("%lld rows: %lld applied, %lld updated, %lld already there, %lld rejected (%.1f s)\n",
           (long long)rep.rows, (long long)rep.applied, (long long)rep.updated,
           (long long)rep.duplicates, (long long)rep.rejected, secs);
    json_decref(rep.errors);
    if (rc) fprintf(stderr, "fidelis: import stopped: %s\n", fd_strerror(rc));
    return rc ? 1 : 0;
}

/* export members|ledger [--format csv|ndjson] */
static int cmd_export(int argc, char **argv, const opts *o)
{
    bool help = o->help;
    if (help || argc < 1 ||
        (strcmp(argv[0], "members") && strcmp(argv[0], "ledger") && strcmp(argv[0], "segment")) ||
        (!strcmp(argv[0], "segment") && argc < 2)) {
        printf("usage: fidelis export members|ledger|segment [SEGMENT_ID] [--format csv|ndjson]\n"
               "                     [--program ID] [--db PATH]\n"
               "Writes to standard output.\n");
        return help ? 0 : 2;
    }
    fd_store *s;
    fd_program p;
    if (open_store(o, 1, &s)) return 1;
    fd_db *db = fd_store_reader(s);
    int rc = fd_program_load(db, o->program, &p);
    fd_store_release(s, db);
    bool ndjson = o->format && !strcmp(o->format, "ndjson");
    if (!rc && !strcmp(argv[0], "segment"))
        rc = fd_export_segment(s, &p, atoll(argv[1]), ndjson, stdout);
    else if (!rc)
        rc = fd_export(s, &p, argv[0], ndjson, stdout);
    fd_store_close(s);
    if (rc) fprintf(stderr, "fidelis: export failed: %s\n", fd_strerror(rc));
    return rc ? 1 : 0;
}

/* clv: the predictive CLV models of a program and its top members. */
static int cmd_clv(const opts *o)
{
    if (o->help) {
        printf("usage: fidelis clv [--program ID] [--as-of YYYY-MM-DD] [--horizon-weeks 52] [--db "
               "PATH]\n"
               "Fits BG/NBD and Gamma-Gamma on the program's customers (weeks) and prints the\n"
               "parameters and the 10 members with the highest CLV (discount 1 %% per 4 weeks).\n");
        return 0;
    }
    fd_store *s;
    fd_program p;
    if (open_store(o, 1, &s)) return 1;
    fd_db *db = fd_store_reader(s);
    int rc = fd_program_load(db, o->program, &p);
    fd_date d = {0};
    char tail;
    if (!rc && o->as_of && sscanf(o->as_of, "%4d-%2d-%2d%c", &d.year, &d.month, &d.day, &tail) != 3)
        rc = FD_EINVAL;
    if (!rc && !o->as_of) rc = fd_local_date(&p, fd_now(), &d);
    fd_clv_customer *c = NULL;
    int64_t *ids = NULL;
    size_t n = 0;
    fd_bgnbd m;
    fd_gamma_gamma g;
    if (!rc)
        rc = fd_clv_load(db, p.id, 0, fd_date_days(d), p.exponent, FD_CLV_FIT_MAX, &c, &ids, &n);
    if (!rc) rc = fd_bgnbd_fit(c, n, &m);
    if (!rc) rc = fd_gamma_gamma_fit(c, n, &g);
    if (!rc) {
        printf("%zu customers as of %04d-%02d-%02d\n", n, d.year & 0x3fff, d.month & 15,
               d.day & 31);
        printf("BG/NBD       r=%.4f alpha=%.4f a=%.4f b=%.4f  log-likelihood %.2f\n", m.r, m.alpha,
               m.a, m.b, m.ll);
        printf("Gamma-Gamma  p=%.4f q=%.4f gamma=%.4f  log-likelihood %.2f\n", g.p, g.q, g.gamma,
               g.ll);
        printf("%-10s %8s %10s %12s %12s\n", "member", "p_alive", "purchases", "order_value",
               "clv");
        bool *shown = fd_calloc(n ? n : 1, sizeof *shown);
        for (int k = 0; k < 10 && k < (int)n; k++) {
            size_t best = 0;
            double best_clv = -1;
            for (size_t i = 0; i < n; i++) {
                double v = shown[i] ? -1 : fd_clv(&m, &g, &c[i], 4.0, o->horizon_weeks / 4, 0.01);
                if (v > best_clv) best_clv = v, best = i;
            }
            shown[best] = true;
            printf("%-10lld %8.3f %10.2f %12.2f %12.2f\n", (long long)ids[best],
                   fd_bgnbd_p_alive(&m, c[best].x, c[best].t_x, c[best].T),
                   fd_bgnbd_expected(&m, c[best].x, c[best].t_x, c[best].T, o->horizon_weeks),
                   fd_gamma_gamma_value(&g, c[best].x, c[best].m), best_clv);
        }
        free(shown);
    }
    free(c);
    free(ids);
    fd_store_release(s, db);
    fd_store_close(s);
    if (rc)
        fprintf(stderr, "fidelis: clv: %s\n",
                rc == FD_EINVAL ? "not enough data (or a bad --as-of)" : fd_strerror(rc));
    return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (sodium_init() < 0) {
        fprintf(stderr, "fidelis: libsodium failed to initialise\n");
        return 1;
    }
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
        !strcmp(argv[1], "help")) {
        fputs(USAGE, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *cmd = argv[1];
    /* "key create", "import orders FILE", "export members" take words before options */
    int words = !strcmp(cmd, "key")      ? 1
                : !strcmp(cmd, "import") ? 2
                : !strcmp(cmd, "export") ? 2
                                         : 0;
    int skip = 2;
    while (skip < argc && skip - 2 < words && (argv[skip][0] != '-' || !strcmp(argv[skip], "-")))
        skip++;
    opts o;
    if (parse_opts(argc - skip, argv + skip, &o)) return 2;
    if (!strcmp(cmd, "serve")) return cmd_serve(&o);
    if (!strcmp(cmd, "init")) return cmd_init(&o);
    if (!strcmp(cmd, "migrate")) return cmd_migrate(&o);
    if (!strcmp(cmd, "key")) return cmd_key(skip - 2, argv + 2, &o);
    if (!strcmp(cmd, "check")) return cmd_check(&o);
    if (!strcmp(cmd, "expire")) return cmd_expire(&o);
    if (!strcmp(cmd, "import")) return cmd_import(skip - 2, argv + 2, &o);
    if (!strcmp(cmd, "clv")) return cmd_clv(&o);
    if (!strcmp(cmd, "export")) return cmd_export(skip - 2, argv + 2, &o);
    fprintf(stderr, "fidelis: unknown command %s\n\n%s", cmd, USAGE);
    return 2;
}
