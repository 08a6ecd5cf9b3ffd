/*
 * jsonlogic.c - compiled JSONLogic (jsonlogic.h).
 */
#include "core/jsonlogic.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fd.h"

enum op {
    OP_LIT,
    OP_ARRAY,
    OP_VAR,
    OP_PATH, /* var with a literal path, split into its steps when compiled */
    OP_MISSING,
    OP_MISSING_SOME,
    OP_IF,
    OP_EQ,
    OP_SEQ,
    OP_NE,
    OP_SNE,
    OP_NOT,
    OP_NOTNOT,
    OP_OR,
    OP_AND,
    OP_GT,
    OP_GE,
    OP_LT,
    OP_LE,
    OP_MAX,
    OP_MIN,
    OP_ADD,
    OP_SUB,
    OP_MUL,
    OP_DIV,
    OP_MOD,
    OP_MAP,
    OP_FILTER,
    OP_REDUCE,
    OP_ALL,
    OP_SOME,
    OP_NONE,
    OP_MERGE,
    OP_IN,
    OP_CAT,
    OP_SUBSTR,
    OP_LOG,
    OP_WEEKDAY,
    OP_HOUR,
    OP_DAYS_SINCE,
    OP_IN_SEGMENT,
    OP_TIER,
};

/* name, op, minimum and maximum number of arguments (-1: any) */
static const struct {
    const char *name;
    enum op op;
    int min, max;
} OPS[] = {
    {"var", OP_VAR, 0, 2},
    {"missing", OP_MISSING, 0, -1},
    {"missing_some", OP_MISSING_SOME, 2, 2},
    {"if", OP_IF, 0, -1},
    {"?:", OP_IF, 0, -1},
    {"==", OP_EQ, 2, 2},
    {"===", OP_SEQ, 2, 2},
    {"!=", OP_NE, 2, 2},
    {"!==", OP_SNE, 2, 2},
    {"!", OP_NOT, 1, 1},
    {"!!", OP_NOTNOT, 1, 1},
    {"or", OP_OR, 1, -1},
    {"and", OP_AND, 1, -1},
    {">", OP_GT, 2, 2},
    {">=", OP_GE, 2, 2},
    {"<", OP_LT, 2, 3},
    {"<=", OP_LE, 2, 3},
    {"max", OP_MAX, 0, -1},
    {"min", OP_MIN, 0, -1},
    {"+", OP_ADD, 0, -1},
    {"-", OP_SUB, 1, 2},
    {"*", OP_MUL, 1, -1},
    {"/", OP_DIV, 2, 2},
    {"%", OP_MOD, 2, 2},
    {"map", OP_MAP, 2, 2},
    {"filter", OP_FILTER, 2, 2},
    {"reduce", OP_REDUCE, 2, 3},
    {"all", OP_ALL, 2, 2},
    {"some", OP_SOME, 2, 2},
    {"none", OP_NONE, 2, 2},
    {"merge", OP_MERGE, 0, -1},
    {"in", OP_IN, 2, 2},
    {"cat", OP_CAT, 0, -1},
    {"substr", OP_SUBSTR, 2, 3},
    {"log", OP_LOG, 1, 1},
    {"weekday", OP_WEEKDAY, 0, 0},
    {"hour", OP_HOUR, 0, 0},
    {"days_since", OP_DAYS_SINCE, 1, 1},
    {"in_segment", OP_IN_SEGMENT, 1, 1},
    {"tier", OP_TIER, 0, 0},
};

typedef struct node {
    enum op op;
    uint32_t nargs;
    uint32_t args;              /* first child index in kids */
    uint32_t first_step, steps; /* OP_PATH: its steps in the expression's steps */
    jl_val lit;
} node;

/* One key of a dotted path ("member.attributes.country" has three). */
typedef struct step {
    const char *key; /* into the literal's owned string: not NUL-terminated */
    size_t len;
} step;

struct jl_expr {
    node *nodes;
    uint32_t nnodes;
    uint32_t *kids;
    uint32_t nkids;
    step *steps; /* of every OP_PATH */
    uint32_t nsteps;
    uint32_t root;
    char **strs; /* owned literal strings */
    size_t nstrs;
    json_t **objs; /* owned literal objects */
    size_t nobjs;
};

/* ---------- compile ---------- */

typedef struct compiler {
    jl_expr *e;
    uint32_t cap_nodes, cap_kids, cap_steps;
    size_t cap_strs, cap_objs;
    char *err;
    size_t errlen;
} compiler;

static int fail(compiler *c, const char *path, const char *why)
{
    snprintf(c->err, c->errlen, "%s: %s", path[0] ? path : "/", why);
    return FD_EINVAL;
}

static int add_node(compiler *c, node n, uint32_t *idx)
{
    jl_expr *e = c->e;
    if (e->nnodes >= JL_NODES_MAX) return FD_EINVAL;
    if (e->nnodes == c->cap_nodes) {
        c->cap_nodes = c->cap_nodes ? c->cap_nodes * 2 : 16;
        e->nodes = fd_realloc(e->nodes, c->cap_nodes * sizeof *e->nodes);
    }
    e->nodes[e->nnodes] = n;
    *idx = e->nnodes++;
    return FD_OK;
}

static const char *own_str(compiler *c, const char *s, size_t len)
{
    jl_expr *e = c->e;
    if (e->nstrs == c->cap_strs) {
        c->cap_strs = c->cap_strs ? c->cap_strs * 2 : 8;
        e->strs = fd_realloc(e->strs, c->cap_strs * sizeof *e->strs);
    }
    char *p = fd_malloc(len + 1);
    memcpy(p, s, len);
    p[len] = 0;
    e->strs[e->nstrs++] = p;
    return p;
}

static const json_t *own_json(compiler *c, const json_t *j)
{
    jl_expr *e = c->e;
    if (e->nobjs == c->cap_objs) {
        c->cap_objs = c->cap_objs ? c->cap_objs * 2 : 4;
        e->objs = fd_realloc(e->objs, c->cap_objs * sizeof *e->objs);
    }
    json_t *copy = json_deep_copy(j);
    e->objs[e->nobjs++] = copy;
    return copy;
}

static int compile_node(compiler *c, const json_t *j, const char *path, int depth, uint32_t *idx);

static void add_step(compiler *c, const char *key, size_t len)
{
    jl_expr *e = c->e;
    if (e->nsteps == c->cap_steps) {
        c->cap_steps = c->cap_steps ? c->cap_steps * 2 : 8;
        e->steps = fd_realloc(e->steps, c->cap_steps * sizeof *e->steps);
    }
    e->steps[e->nsteps++] = (step){key, len};
}

/* A var whose path is a literal string becomes OP_PATH, its keys split once
 * here instead of at every evaluation; the same split as var_get's. */
static void split_path(compiler *c, node *n)
{
    if (n->nargs == 0) return;
    const node *path = &c->e->nodes[c->e->kids[n->args]];
    if (path->op != OP_LIT || path->lit.t != JL_STR) return;
    n->op = OP_PATH;
    n->first_step = c->e->nsteps;
    const char *s = path->lit.s, *end = s + path->lit.len;
    while (path->lit.len) {
        const char *dot = memchr(s, '.', (size_t)(end - s));
        add_step(c, s, dot ? (size_t)(dot - s) : (size_t)(end - s));
        if (!dot) break;
        s = dot + 1;
    }
    n->steps = c->e->nsteps - n->first_step;
}

/* Compiles the elements of array `items` as children; returns their first index. */
static int compile_children(compiler *c, const json_t *items, const char *path, int depth,
                            uint32_t *first, uint32_t *count)
{
    size_t n = json_array_size(items);
    uint32_t *tmp = fd_malloc((n ? n : 1) * sizeof *tmp);
    int rc = FD_OK;
    for (size_t i = 0; i < n && !rc; i++) {
        char sub[256];
        snprintf(sub, sizeof sub, "%s/%zu", path, i);
        rc = compile_node(c, json_array_get(items, i), sub, depth + 1, &tmp[i]);
    }
    if (!rc) {
        jl_expr *e = c->e;
        while (e->nkids + n > c->cap_kids) {
            c->cap_kids = c->cap_kids ? c->cap_kids * 2 : 32;
            e->kids = fd_realloc(e->kids, c->cap_kids * sizeof *e->kids);
        }
        *first = e->nkids;
        if (n) memcpy(e->kids + e->nkids, tmp, n * sizeof *tmp);
        e->nkids += (uint32_t)n;
        *count = (uint32_t)n;
    }
    free(tmp);
    return rc;
}

static int compile_node(compiler *c, const json_t *j, const char *path, int depth, uint32_t *idx)
{
    if (depth > JL_DEPTH_MAX) return fail(c, path, "nested deeper than 32 levels");
    if (c->e->nnodes >= JL_NODES_MAX) return fail(c, path, "more than 2000 nodes");
    node n = {.op = OP_LIT};
    if (json_is_array(j)) {
        n.op = OP_ARRAY;
        int rc = compile_children(c, j, path, depth, &n.args, &n.nargs);
        return rc ? rc : add_node(c, n, idx);
    }
    if (json_is_object(j) && json_object_size(j) == 1) {
        const char *name = json_object_iter_key(json_object_iter((json_t *)j));
        const json_t *args = json_object_iter_value(json_object_iter((json_t *)j));
        int k = -1;
        for (size_t i = 0; i < sizeof OPS / sizeof OPS[0]; i++)
            if (!strcmp(OPS[i].name, name)) k = (int)i;
        char sub[256];
        snprintf(sub, sizeof sub, "%s/%s", path, name);
        if (k < 0) return fail(c, sub, "unknown operator");
        n.op = OPS[k].op;
        json_t *wrapped = NULL;
        if (!json_is_array(args)) args = wrapped = json_pack("[O]", args);
        int rc = compile_children(c, args, sub, depth, &n.args, &n.nargs);
        json_decref(wrapped);
        if (rc) return rc;
        if ((int)n.nargs < OPS[k].min || (OPS[k].max >= 0 && (int)n.nargs > OPS[k].max)) {
            char why[64];
            if (OPS[k].max < 0)
                snprintf(why, sizeof why, "needs at least %d arguments", OPS[k].min);
            else if (OPS[k].min == OPS[k].max)
                snprintf(why, sizeof why, "needs %d argument%s", OPS[k].min,
                         OPS[k].min == 1 ? "" : "s");
            else
                snprintf(why, sizeof why, "needs %d to %d arguments", OPS[k].min, OPS[k].max);
            return fail(c, sub, why);
        }
        if (n.op == OP_VAR) split_path(c, &n);
        return add_node(c, n, idx);
    }
    /* a literal */
    if (json_is_null(j))
        n.lit.t = JL_NULL;
    else if (json_is_boolean(j))
        n.lit = (jl_val){.t = JL_BOOL, .b = json_is_true(j)};
    else if (json_is_number(j))
        n.lit = (jl_val){.t = JL_NUM, .n = json_number_value(j)};
    else if (json_is_string(j)) {
        size_t len = json_string_length(j);
        n.lit = (jl_val){.t = JL_STR, .s = own_str(c, json_string_value(j), len), .len = len};
    } else {
        n.lit = (jl_val){.t = JL_JSON, .j = own_json(c, j)}; /* object that is not logic */
    }
    return add_node(c, n, idx);
}

void jl_free(jl_expr *e)
{
    if (!e) return;
    for (size_t i = 0; i < e->nstrs; i++)
        free(e->strs[i]);
    for (size_t i = 0; i < e->nobjs; i++)
        json_decref(e->objs[i]);
    free(e->strs);
    free(e->objs);
    free(e->nodes);
    free(e->kids);
    free(e->steps);
    free(e);
}

int jl_compile(const json_t *logic, jl_expr **out, char *err, size_t errlen)
{
    compiler c = {.e = fd_calloc(1, sizeof(jl_expr)), .err = err, .errlen = errlen};
    if (!logic) {
        jl_free(c.e);
        snprintf(err, errlen, "/: missing expression");
        return FD_EINVAL;
    }
    int rc = compile_node(&c, logic, "", 0, &c.e->root);
    if (rc) {
        jl_free(c.e);
        return rc;
    }
    *out = c.e;
    return FD_OK;
}

/* ---------- what an expression reads ---------- */

/* Whether dotted paths a and b overlap: one is a prefix of the other at a
 * dot boundary (the empty path is the whole data). */
static bool paths_overlap(const char *a, size_t alen, const char *b)
{
    size_t blen = strlen(b), n = alen < blen ? alen : blen;
    if (memcmp(a, b, n)) return false;
    if (alen == blen || n == 0) return true;
    return (alen > blen ? a[n] : b[n]) == '.';
}

/* Whether the path argument at node index k may name path. */
static bool arg_may_read(const jl_expr *e, uint32_t k, const char *path)
{
    const node *a = &e->nodes[k];
    if (a->op == OP_ARRAY) { /* missing's list form */
        for (uint32_t i = 0; i < a->nargs; i++)
            if (arg_may_read(e, e->kids[a->args + i], path)) return true;
        return false;
    }
    if (a->op != OP_LIT || a->lit.t == JL_NULL || a->lit.t == JL_JSON) return true;
    if (a->lit.t != JL_STR) return false; /* a number names an array index, never a key path */
    return paths_overlap(a->lit.s, a->lit.len, path);
}

bool jl_may_read(const jl_expr *e, const char *path)
{
    for (uint32_t i = 0; e && i < e->nnodes; i++) {
        const node *n = &e->nodes[i];
        uint32_t first = 0, last = 0;                     /* path arguments [first, last) */
        if (n->op == OP_TIER || n->op == OP_IN_SEGMENT) { /* they read the member (fidelis_op) */
            const char *own = n->op == OP_TIER ? "member.tier" : "member.segments";
            if (paths_overlap(own, strlen(own), path)) return true;
            continue;
        }
        if (n->op == OP_VAR || n->op == OP_PATH)
            last = n->nargs ? 1 : 0;
        else if (n->op == OP_MISSING)
            last = n->nargs;
        else if (n->op == OP_MISSING_SOME)
            first = 1, last = n->nargs;
        else
            continue;
        if (n->op == OP_VAR && n->nargs == 0) return true; /* the whole data */
        for (uint32_t k = first; k < last; k++)
            if (arg_may_read(e, e->kids[n->args + k], path)) return true;
    }
    return false;
}

/* ---------- scratch arena ---------- */

typedef struct block {
    struct block *next;
    size_t size, used;
    _Alignas(16) unsigned char data[];
} block;

struct jl_ctx {
    block *head; /* blocks are kept across evaluations and reused */
    block *cur;
    size_t total;
};

jl_ctx *jl_ctx_new(void)
{
    return fd_calloc(1, sizeof(jl_ctx));
}

void jl_ctx_free(jl_ctx *c)
{
    if (!c) return;
    for (block *b = c->head; b;) {
        block *next = b->next;
        free(b);
        b = next;
    }
    free(c);
}

static void arena_reset(jl_ctx *c)
{
    for (block *b = c->head; b; b = b->next)
        b->used = 0;
    c->cur = c->head;
    c->total = 0;
}

static void *arena_alloc(jl_ctx *c, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (c->total + n > JL_ARENA_MAX) return NULL;
    while (c->cur && c->cur->used + n > c->cur->size)
        c->cur = c->cur->next;
    if (!c->cur) {
        size_t size = n > 65536 ? n : 65536;
        block *b = fd_malloc(sizeof *b + size);
        b->size = size;
        b->used = 0;
        b->next = c->head; /* new blocks go first; reset walks all */
        c->head = b;
        c->cur = b;
    }
    void *p = c->cur->data + c->cur->used;
    c->cur->used += n;
    c->total += n;
    return p;
}

/* ---------- values ---------- */

typedef struct state {
    const jl_expr *e;
    jl_ctx *c;
    const jl_env *env;
    const jl_val *root; /* the top-level data */
    long steps;
} state;

static jl_val from_json(const json_t *j)
{
    switch (j ? json_typeof(j) : JSON_NULL) {
    case JSON_NULL:
        return (jl_val){.t = JL_NULL};
    case JSON_TRUE:
    case JSON_FALSE:
        return (jl_val){.t = JL_BOOL, .b = json_is_true(j)};
    case JSON_INTEGER:
        return (jl_val){.t = JL_NUM, .n = (double)json_integer_value(j)};
    case JSON_REAL:
        return (jl_val){.t = JL_NUM, .n = json_real_value(j)};
    case JSON_STRING:
        return (jl_val){.t = JL_STR, .s = json_string_value(j), .len = json_string_length(j)};
    default:
        return (jl_val){.t = JL_JSON, .j = j};
    }
}

static jl_val num(double n)
{
    return (jl_val){.t = JL_NUM, .n = n};
}

static jl_val boolean(bool b)
{
    return (jl_val){.t = JL_BOOL, .b = b};
}

static bool is_array(const jl_val *v)
{
    return v->t == JL_ARR || (v->t == JL_JSON && json_is_array(v->j));
}

static bool is_object(const jl_val *v)
{
    return v->t == JL_ARR || v->t == JL_JSON || v->t == JL_SCOPE;
}

static size_t arr_len(const jl_val *v)
{
    return v->t == JL_ARR ? v->count : json_array_size(v->j);
}

static jl_val arr_at(const jl_val *v, size_t i)
{
    return v->t == JL_ARR ? v->items[i] : from_json(json_array_get(v->j, i));
}

bool jl_truthy(const jl_val *v)
{
    switch (v->t) {
    case JL_NULL:
        return false;
    case JL_BOOL:
        return v->b;
    case JL_NUM:
        return v->n != 0 && !isnan(v->n);
    case JL_STR:
        return v->len > 0;
    case JL_ARR:
        return v->count > 0;
    case JL_JSON:
        return !json_is_array(v->j) || json_array_size(v->j) > 0;
    case JL_SCOPE:
        return true;
    }
    return false;
}

/* JavaScript Number -> String. */
static void num_str(double d, char *buf, size_t n)
{
    if (isnan(d))
        snprintf(buf, n, "NaN");
    else if (isinf(d))
        snprintf(buf, n, d < 0 ? "-Infinity" : "Infinity");
    else if (d == 0)
        snprintf(buf, n, "0");
    else if (fabs(d) < 1e21 && d == trunc(d))
        snprintf(buf, n, "%.0f", d);
    else if (fabs(d) >= 1e-7 && fabs(d) < 1e21) {
        for (int p = 1; p <= 20; p++) {
            snprintf(buf, n, "%.*f", p, d);
            if (strtod(buf, NULL) == d) break;
        }
    } else {
        char tmp[40];
        for (int p = 0; p <= 17; p++) {
            snprintf(tmp, sizeof tmp, "%.*e", p, d);
            if (strtod(tmp, NULL) == d) break;
        }
        /* C writes e+07 / e-07; JavaScript writes e+7 / e-7 */
        char *e = strchr(tmp, 'e');
        size_t k = (size_t)(e - tmp) + 2;
        while (tmp[k] == '0' && tmp[k + 1])
            memmove(tmp + k, tmp + k + 1, strlen(tmp + k));
        snprintf(buf, n, "%s", tmp);
    }
}

/* Grows a string buffer in the arena. */
typedef struct sbuf {
    char *p;
    size_t len, cap;
    bool oom;
} sbuf;

static void sb_add(state *st, sbuf *b, const char *s, size_t n)
{
    if (b->oom) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = (b->len + n + 1) * 2;
        char *p = arena_alloc(st->c, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        if (b->len) memcpy(p, b->p, b->len);
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

static void sb_val(state *st, sbuf *b, const jl_val *v, bool in_array);

static void sb_array(state *st, sbuf *b, const jl_val *v)
{
    size_t n = arr_len(v);
    for (size_t i = 0; i < n && !b->oom; i++) {
        if (i) sb_add(st, b, ",", 1);
        jl_val x = arr_at(v, i);
        sb_val(st, b, &x, true);
    }
}

/* Appends String(v); inside arrays (join) null becomes "". */
static void sb_val(state *st, sbuf *b, const jl_val *v, bool in_array)
{
    char buf[40];
    switch (v->t) {
    case JL_NULL:
        if (!in_array) sb_add(st, b, "null", 4);
        break;
    case JL_BOOL:
        sb_add(st, b, v->b ? "true" : "false", v->b ? 4 : 5);
        break;
    case JL_NUM:
        num_str(v->n, buf, sizeof buf);
        sb_add(st, b, buf, strlen(buf));
        break;
    case JL_STR:
        sb_add(st, b, v->s, v->len);
        break;
    case JL_ARR:
        sb_array(st, b, v);
        break;
    case JL_JSON:
        if (json_is_array(v->j))
            sb_array(st, b, v);
        else
            sb_add(st, b, "[object Object]", 15);
        break;
    case JL_SCOPE:
        sb_add(st, b, "[object Object]", 15);
        break;
    }
}

static int to_str(state *st, const jl_val *v, jl_val *out)
{
    if (v->t == JL_STR) {
        *out = *v;
        return FD_OK;
    }
    sbuf b = {0};
    sb_add(st, &b, "", 0);
    sb_val(st, &b, v, false);
    if (b.oom) return FD_ETOOBIG;
    *out = (jl_val){.t = JL_STR, .s = b.p, .len = b.len};
    return FD_OK;
}

static bool is_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v';
}

/* JavaScript ToNumber for a string. */
static double str_number(const char *s, size_t len)
{
    while (len && is_space(*s))
        s++, len--;
    while (len && is_space(s[len - 1]))
        len--;
    if (len == 0) return 0;
    char buf[128];
    if (len >= sizeof buf) return NAN;
    memcpy(buf, s, len);
    buf[len] = 0;
    const char *p = buf;
    if (!strcmp(p, "Infinity") || !strcmp(p, "+Infinity")) return INFINITY;
    if (!strcmp(p, "-Infinity")) return -INFINITY;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        char *end;
        long long v = strtoll(p + 2, &end, 16);
        return *end || !p[2] ? NAN : (double)v;
    }
    const char *q = p + (*p == '+' || *p == '-');
    if (!(*q >= '0' && *q <= '9') && *q != '.') return NAN;
    for (const char *r = q; *r; r++)
        if (!strchr("0123456789.eE+-", *r)) return NAN;
    char *end;
    double d = strtod(p, &end);
    return *end ? NAN : d;
}

static int to_number(state *st, const jl_val *v, double *out)
{
    switch (v->t) {
    case JL_NULL:
        *out = 0;
        return FD_OK;
    case JL_BOOL:
        *out = v->b;
        return FD_OK;
    case JL_NUM:
        *out = v->n;
        return FD_OK;
    case JL_STR:
        *out = str_number(v->s, v->len);
        return FD_OK;
    default:
        break;
    }
    jl_val s;
    int rc = to_str(st, v, &s);
    if (!rc) *out = str_number(s.s, s.len);
    return rc;
}

/* JavaScript parseFloat(String(v)). */
static int parse_float(state *st, const jl_val *v, double *out)
{
    if (v->t == JL_NUM) {
        *out = v->n;
        return FD_OK;
    }
    jl_val s;
    int rc = to_str(st, v, &s);
    if (rc) return rc;
    const char *p = s.s;
    while (is_space(*p))
        p++;
    const char *q = p + (*p == '+' || *p == '-');
    if (!strncmp(q, "Infinity", 8)) {
        *out = *p == '-' ? -INFINITY : INFINITY;
        return FD_OK;
    }
    size_t k = 0, digits = 0;
    while (q[k] >= '0' && q[k] <= '9')
        k++, digits++;
    if (q[k] == '.') {
        k++;
        while (q[k] >= '0' && q[k] <= '9')
            k++, digits++;
    }
    if (!digits) {
        *out = NAN;
        return FD_OK;
    }
    if (q[k] == 'e' || q[k] == 'E') {
        size_t e = k + 1 + (q[k + 1] == '+' || q[k + 1] == '-');
        if (q[e] >= '0' && q[e] <= '9') {
            k = e;
            while (q[k] >= '0' && q[k] <= '9')
                k++;
        }
    }
    char buf[128];
    size_t n = (size_t)(q - p) + k;
    if (n >= sizeof buf) n = sizeof buf - 1;
    memcpy(buf, p, n);
    buf[n] = 0;
    *out = strtod(buf, NULL);
    return FD_OK;
}

static bool strict_eq(const jl_val *a, const jl_val *b)
{
    if (is_object(a) || is_object(b)) { /* identity */
        if (a->t != b->t) return false;
        if (a->t == JL_JSON) return a->j == b->j;
        return a->items == b->items && a->count == b->count;
    }
    if (a->t != b->t) return false;
    switch (a->t) {
    case JL_NULL:
        return true;
    case JL_BOOL:
        return a->b == b->b;
    case JL_NUM:
        return a->n == b->n;
    case JL_STR:
        return a->len == b->len && !memcmp(a->s, b->s, a->len);
    default:
        return false;
    }
}

static int loose_eq(state *st, const jl_val *a, const jl_val *b, bool *out)
{
    if (a->t == b->t || (is_object(a) && is_object(b))) {
        *out = strict_eq(a, b);
        return FD_OK;
    }
    if (a->t == JL_NULL || b->t == JL_NULL) {
        *out = false;
        return FD_OK;
    }
    if (a->t == JL_BOOL) {
        jl_val x = num(a->b);
        return loose_eq(st, &x, b, out);
    }
    if (b->t == JL_BOOL) {
        jl_val y = num(b->b);
        return loose_eq(st, a, &y, out);
    }
    if (is_object(a) || is_object(b)) { /* ToPrimitive of the object side: its string */
        jl_val x, y;
        int rc = to_str(st, is_object(a) ? a : b, &x);
        if (rc) return rc;
        y = is_object(a) ? *b : *a;
        return loose_eq(st, &x, &y, out);
    }
    double x, y; /* number and string */
    to_number(st, a, &x);
    to_number(st, b, &y);
    *out = x == y;
    return FD_OK;
}

/* Relational comparison: -1, 0, 1, or 2 when undefined (NaN). */
static int compare(state *st, const jl_val *a, const jl_val *b, int *out)
{
    jl_val x = *a, y = *b;
    int rc = FD_OK;
    if (is_object(&x)) rc = to_str(st, a, &x);
    if (!rc && is_object(&y)) rc = to_str(st, b, &y);
    if (rc) return rc;
    if (x.t == JL_STR && y.t == JL_STR) {
        size_t n = x.len < y.len ? x.len : y.len;
        int c = memcmp(x.s, y.s, n);
        *out = c < 0 ? -1 : c > 0 ? 1 : x.len < y.len ? -1 : x.len > y.len ? 1 : 0;
        return FD_OK;
    }
    double p, q;
    to_number(st, &x, &p);
    to_number(st, &y, &q);
    *out = isnan(p) || isnan(q) ? 2 : p < q ? -1 : p > q ? 1 : 0;
    return FD_OK;
}

/* ---------- evaluation ---------- */

static int ev_node(state *st, const node *n, const jl_val *data, jl_val *out);
static int path_get(state *st, const node *n, const jl_val *data, jl_val *out);

/* Evaluates node idx. Literals and paths, most of the nodes, are answered
 * here, without the call into ev_node and its large frame. */
static inline int ev(state *st, uint32_t idx, const jl_val *data, jl_val *out)
{
    if (++st->steps > JL_STEPS_MAX) return FD_ETOOBIG;
    const node *n = &st->e->nodes[idx];
    if (n->op == OP_LIT) {
        *out = n->lit;
        return FD_OK;
    }
    if (n->op == OP_PATH) return path_get(st, n, data, out);
    return ev_node(st, n, data, out);
}

static uint32_t kid(state *st, const node *n, uint32_t i)
{
    return st->e->kids[n->args + i];
}

static int arg(state *st, const node *n, uint32_t i, const jl_val *data, jl_val *out)
{
    if (i >= n->nargs) {
        *out = (jl_val){.t = JL_NULL};
        return FD_OK;
    }
    return ev(st, kid(st, n, i), data, out);
}

/* Evaluates every argument into an arena array. */
static int all_args(state *st, const node *n, const jl_val *data, jl_val **vals)
{
    jl_val *v = arena_alloc(st->c, (n->nargs ? n->nargs : 1) * sizeof *v);
    if (!v) return FD_ETOOBIG;
    for (uint32_t i = 0; i < n->nargs; i++) {
        int rc = ev(st, kid(st, n, i), data, &v[i]);
        if (rc) return rc;
    }
    *vals = v;
    return FD_OK;
}

static jl_val lookup(const jl_val *cur, const char *seg, size_t len, bool *found)
{
    *found = false;
    if (cur->t == JL_SCOPE) {
        if (len == 7 && !memcmp(seg, "current", 7)) return *found = true, cur->items[0];
        if (len == 11 && !memcmp(seg, "accumulator", 11)) return *found = true, cur->items[1];
        return (jl_val){.t = JL_NULL};
    }
    if (cur->t == JL_JSON && json_is_object(cur->j)) {
        const json_t *v = json_object_getn(cur->j, seg, len);
        *found = v != NULL;
        return from_json(v);
    }
    if (is_array(cur)) {
        size_t i = 0;
        if (len == 0 || len > 9) return (jl_val){.t = JL_NULL};
        for (size_t k = 0; k < len; k++) {
            if (seg[k] < '0' || seg[k] > '9') return (jl_val){.t = JL_NULL};
            i = i * 10 + (size_t)(seg[k] - '0');
        }
        if (i >= arr_len(cur)) return (jl_val){.t = JL_NULL};
        *found = true;
        return arr_at(cur, i);
    }
    return (jl_val){.t = JL_NULL};
}

/* Walks the keys of a split path from data; false when one is missing (a
 * null on the way is missing too; a null at the end is found). */
static bool walk(const jl_val *data, const step *steps, uint32_t n, jl_val *out)
{
    jl_val cur = *data;
    for (uint32_t i = 0; i < n; i++) {
        bool found;
        cur = lookup(&cur, steps[i].key, steps[i].len, &found);
        if (!found) return false;
    }
    *out = cur;
    return true;
}

/* var with a computed path: walks it from data; not_found when a step is missing. */
static int var_get(state *st, const jl_val *data, const jl_val *path, const jl_val *not_found,
                   jl_val *out)
{
    if (path->t == JL_NULL || (path->t == JL_STR && path->len == 0)) {
        *out = *data;
        return FD_OK;
    }
    jl_val p;
    int rc = to_str(st, path, &p);
    if (rc) return rc;
    jl_val cur = *data;
    const char *s = p.s, *end = p.s + p.len;
    for (;;) {
        if (cur.t == JL_NULL) {
            *out = *not_found;
            return FD_OK;
        }
        const char *dot = memchr(s, '.', (size_t)(end - s));
        size_t len = dot ? (size_t)(dot - s) : (size_t)(end - s);
        bool found;
        cur = lookup(&cur, s, len, &found);
        if (!found) {
            *out = *not_found;
            return FD_OK;
        }
        if (!dot) break;
        s = dot + 1;
    }
    *out = cur;
    return FD_OK;
}

static int missing(state *st, const jl_val *data, const jl_val *keys, size_t nkeys,
                   bool keys_is_array, const jl_val *arr, jl_val *out)
{
    size_t n = keys_is_array ? arr_len(arr) : nkeys;
    jl_val *res = arena_alloc(st->c, (n ? n : 1) * sizeof *res);
    if (!res) return FD_ETOOBIG;
    size_t k = 0;
    jl_val null = {.t = JL_NULL};
    for (size_t i = 0; i < n; i++) {
        jl_val key = keys_is_array ? arr_at(arr, i) : keys[i], v;
        int rc = var_get(st, data, &key, &null, &v);
        if (rc) return rc;
        if (v.t == JL_NULL || (v.t == JL_STR && v.len == 0)) res[k++] = key;
    }
    *out = (jl_val){.t = JL_ARR, .items = res, .count = k};
    return FD_OK;
}

/* map, filter, all, some, none, reduce */
static int iterate(state *st, const node *n, const jl_val *data, jl_val *out)
{
    jl_val list;
    int rc = arg(st, n, 0, data, &list);
    if (rc) return rc;
    size_t len = is_array(&list) ? arr_len(&list) : 0;
    uint32_t logic = kid(st, n, 1);
    if (n->op == OP_REDUCE) {
        jl_val acc;
        if ((rc = arg(st, n, 2, data, &acc))) return rc;
        jl_val *scope = arena_alloc(st->c, 2 * sizeof *scope);
        if (!scope) return FD_ETOOBIG;
        for (size_t i = 0; i < len; i++) {
            scope[0] = arr_at(&list, i);
            scope[1] = acc;
            jl_val sc = {.t = JL_SCOPE, .items = scope, .count = 2};
            if ((rc = ev(st, logic, &sc, &acc))) return rc;
        }
        *out = acc;
        return FD_OK;
    }
    if (n->op == OP_MAP || n->op == OP_FILTER) {
        jl_val *res = arena_alloc(st->c, (len ? len : 1) * sizeof *res);
        if (!res) return FD_ETOOBIG;
        size_t k = 0;
        for (size_t i = 0; i < len; i++) {
            jl_val item = arr_at(&list, i), r;
            if ((rc = ev(st, logic, &item, &r))) return rc;
            if (n->op == OP_MAP)
                res[k++] = r;
            else if (jl_truthy(&r))
                res[k++] = item;
        }
        *out = (jl_val){.t = JL_ARR, .items = res, .count = k};
        return FD_OK;
    }
    /* all: false when empty; some/none by the first truthy */
    bool any = false, every = len > 0;
    for (size_t i = 0; i < len; i++) {
        jl_val item = arr_at(&list, i), r;
        if ((rc = ev(st, logic, &item, &r))) return rc;
        bool t = jl_truthy(&r);
        if (t)
            any = true;
        else
            every = false;
        if ((n->op == OP_ALL && !every) || (n->op != OP_ALL && any)) break;
    }
    *out = boolean(n->op == OP_ALL ? every : n->op == OP_SOME ? any : !any);
    return FD_OK;
}

/* Byte offset of code point cp in a UTF-8 string of len bytes. */
static size_t utf8_offset(const char *s, size_t len, size_t cp)
{
    size_t i = 0;
    while (i < len && cp) {
        i++;
        while (i < len && ((unsigned char)s[i] & 0xC0) == 0x80)
            i++;
        cp--;
    }
    return i;
}

static size_t utf8_count(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80) n++;
    return n;
}

static int substr(state *st, const jl_val *v, uint32_t nargs, jl_val *out)
{
    jl_val s;
    double start, length = 0;
    int rc = to_str(st, &v[0], &s);
    if (!rc) rc = to_number(st, &v[1], &start);
    if (!rc && nargs > 2) rc = to_number(st, &v[2], &length);
    if (rc) return rc;
    double size = (double)utf8_count(s.s, s.len);
    if (isnan(start)) start = 0;
    start = trunc(start);
    if (start < 0) start = fmax(size + start, 0);
    if (start > size) start = size;
    double end = size;
    if (nargs > 2 && !isnan(length)) {
        length = trunc(length);
        end = length < 0 ? fmax(size + length, start) : fmin(start + length, size);
    } else if (nargs > 2) {
        end = start; /* substr(s, start, NaN) is empty */
    }
    size_t a = utf8_offset(s.s, s.len, (size_t)start), b = utf8_offset(s.s, s.len, (size_t)end);
    char *p = arena_alloc(st->c, b - a + 1);
    if (!p) return FD_ETOOBIG;
    memcpy(p, s.s + a, b - a);
    p[b - a] = 0;
    *out = (jl_val){.t = JL_STR, .s = p, .len = b - a};
    return FD_OK;
}

static int in_op(state *st, const jl_val *v, jl_val *out)
{
    if (v[1].t == JL_STR) {
        jl_val needle;
        int rc = to_str(st, &v[0], &needle);
        if (rc) return rc;
        bool found = needle.len == 0 ||
                     (needle.len <= v[1].len && memmem(v[1].s, v[1].len, needle.s, needle.len));
        *out = boolean(found);
        return FD_OK;
    }
    bool found = false;
    if (is_array(&v[1])) {
        size_t n = arr_len(&v[1]);
        for (size_t i = 0; i < n && !found; i++) {
            jl_val x = arr_at(&v[1], i);
            found = strict_eq(&x, &v[0]);
        }
    }
    *out = boolean(found);
    return FD_OK;
}

static int arith(state *st, const node *n, const jl_val *v, jl_val *out)
{
    double acc = 0, x, y;
    int rc = FD_OK;
    switch (n->op) {
    case OP_ADD:
        for (uint32_t i = 0; i < n->nargs && !rc; i++) {
            rc = parse_float(st, &v[i], &x);
            acc += x;
        }
        *out = num(acc);
        return rc;
    case OP_MUL:
        if (n->nargs == 1) { /* reduce without an initial value returns it as is */
            *out = v[0];
            return FD_OK;
        }
        rc = parse_float(st, &v[0], &acc);
        for (uint32_t i = 1; i < n->nargs && !rc; i++) {
            rc = parse_float(st, &v[i], &x);
            acc *= x;
        }
        *out = num(acc);
        return rc;
    case OP_SUB:
        rc = to_number(st, &v[0], &x);
        if (!rc && n->nargs == 2) rc = to_number(st, &v[1], &y);
        *out = num(n->nargs == 2 ? x - y : -x);
        return rc;
    case OP_DIV:
    case OP_MOD:
        rc = to_number(st, &v[0], &x);
        if (!rc) rc = to_number(st, &v[1], &y);
        *out = num(n->op == OP_DIV ? x / y : fmod(x, y));
        return rc;
    case OP_MAX:
    case OP_MIN:
        acc = n->op == OP_MAX ? -INFINITY : INFINITY;
        for (uint32_t i = 0; i < n->nargs && !rc; i++) {
            rc = to_number(st, &v[i], &x);
            if (isnan(x) || isnan(acc))
                acc = NAN;
            else
                acc = n->op == OP_MAX ? fmax(acc, x) : fmin(acc, x);
        }
        *out = num(acc);
        return rc;
    default:
        return FD_EINVAL;
    }
}

static int compare_op(state *st, const node *n, const jl_val *v, jl_val *out)
{
    int c1, c2 = 0, rc;
    bool eq;
    switch (n->op) {
    case OP_EQ:
    case OP_NE:
        rc = loose_eq(st, &v[0], &v[1], &eq);
        *out = boolean(n->op == OP_EQ ? eq : !eq);
        return rc;
    case OP_SEQ:
        *out = boolean(strict_eq(&v[0], &v[1]));
        return FD_OK;
    case OP_SNE:
        *out = boolean(!strict_eq(&v[0], &v[1]));
        return FD_OK;
    default:
        break;
    }
    if ((rc = compare(st, &v[0], &v[1], &c1))) return rc;
    if (n->nargs == 3 && (rc = compare(st, &v[1], &v[2], &c2))) return rc;
    bool r;
    switch (n->op) {
    case OP_GT:
        r = c1 == 1;
        break;
    case OP_GE:
        r = c1 == 1 || c1 == 0;
        break;
    case OP_LT:
        r = c1 == -1 && (n->nargs < 3 || c2 == -1);
        break;
    default:
        r = (c1 == -1 || c1 == 0) && (n->nargs < 3 || c2 == -1 || c2 == 0);
        break;
    }
    *out = boolean(r);
    return FD_OK;
}

static int merge(state *st, const jl_val *v, uint32_t nargs, jl_val *out)
{
    size_t total = 0;
    for (uint32_t i = 0; i < nargs; i++)
        total += is_array(&v[i]) ? arr_len(&v[i]) : 1;
    jl_val *res = arena_alloc(st->c, (total ? total : 1) * sizeof *res);
    if (!res) return FD_ETOOBIG;
    size_t k = 0;
    for (uint32_t i = 0; i < nargs; i++) {
        if (!is_array(&v[i])) {
            res[k++] = v[i];
            continue;
        }
        size_t n = arr_len(&v[i]);
        for (size_t j = 0; j < n; j++)
            res[k++] = arr_at(&v[i], j);
    }
    *out = (jl_val){.t = JL_ARR, .items = res, .count = k};
    return FD_OK;
}

static int fidelis_op(state *st, const node *n, const jl_val *v, jl_val *out)
{
    const jl_env *env = st->env;
    jl_val null = {.t = JL_NULL};
    *out = null;
    if (n->op == OP_WEEKDAY || n->op == OP_HOUR) {
        if (env) *out = num(n->op == OP_WEEKDAY ? env->weekday : env->hour);
        return FD_OK;
    }
    if (n->op == OP_DAYS_SINCE) {
        int64_t t;
        if (env && v[0].t == JL_STR && fd_time_parse(v[0].s, &t) == FD_OK)
            *out = num(floor((double)(env->now - t) / 86400.0));
        return FD_OK;
    }
    /* tier and in_segment read the member the rule context describes */
    static const step TIER[] = {{"member", 6}, {"tier", 4}};
    static const step SEGMENTS[] = {{"member", 6}, {"segments", 8}};
    jl_val found = null;
    walk(st->root, n->op == OP_TIER ? TIER : SEGMENTS, 2, &found);
    if (n->op == OP_TIER) {
        *out = found;
        return FD_OK;
    }
    jl_val args[2] = {v[0], found};
    return in_op(st, args, out);
}

/* var with a split path (OP_PATH): its value, or its default (null without one). */
static int path_get(state *st, const node *n, const jl_val *data, jl_val *out)
{
    if (walk(data, st->e->steps + n->first_step, n->steps, out)) return FD_OK;
    return arg(st, n, 1, data, out);
}

static int ev_node(state *st, const node *n, const jl_val *data, jl_val *out)
{
    jl_val *v, x;
    int rc;
    switch (n->op) {
    case OP_IF: {
        uint32_t i = 0;
        for (; i + 1 < n->nargs; i += 2) {
            if ((rc = arg(st, n, i, data, &x))) return rc;
            if (jl_truthy(&x)) return arg(st, n, i + 1, data, out);
        }
        if (i < n->nargs) return arg(st, n, i, data, out);
        *out = (jl_val){.t = JL_NULL};
        return FD_OK;
    }
    case OP_AND:
    case OP_OR:
        for (uint32_t i = 0; i < n->nargs; i++) {
            if ((rc = arg(st, n, i, data, out))) return rc;
            if (jl_truthy(out) == (n->op == OP_OR)) return FD_OK;
        }
        return FD_OK;
    case OP_MAP:
    case OP_FILTER:
    case OP_REDUCE:
    case OP_ALL:
    case OP_SOME:
    case OP_NONE:
        return iterate(st, n, data, out);
    default:
        break;
    }
    if ((rc = all_args(st, n, data, &v))) return rc;
    switch (n->op) {
    case OP_ARRAY:
        *out = (jl_val){.t = JL_ARR, .items = v, .count = n->nargs};
        return FD_OK;
    case OP_VAR: {
        jl_val null = {.t = JL_NULL};
        if (n->nargs == 0) {
            *out = *data;
            return FD_OK;
        }
        return var_get(st, data, &v[0], n->nargs > 1 ? &v[1] : &null, out);
    }
    case OP_MISSING:
        return missing(st, data, v, n->nargs, n->nargs > 0 && is_array(&v[0]), &v[0], out);
    case OP_MISSING_SOME: {
        double need;
        if ((rc = to_number(st, &v[0], &need))) return rc;
        if (!is_array(&v[1])) {
            *out = (jl_val){.t = JL_ARR, .items = v, .count = 0};
            return FD_OK;
        }
        if ((rc = missing(st, data, NULL, 0, true, &v[1], out))) return rc;
        if ((double)(arr_len(&v[1]) - out->count) >= need) out->count = 0;
        return FD_OK;
    }
    case OP_NOT:
        *out = boolean(!jl_truthy(&v[0]));
        return FD_OK;
    case OP_NOTNOT:
        *out = boolean(jl_truthy(&v[0]));
        return FD_OK;
    case OP_EQ:
    case OP_SEQ:
    case OP_NE:
    case OP_SNE:
    case OP_GT:
    case OP_GE:
    case OP_LT:
    case OP_LE:
        return compare_op(st, n, v, out);
    case OP_ADD:
    case OP_SUB:
    case OP_MUL:
    case OP_DIV:
    case OP_MOD:
    case OP_MAX:
    case OP_MIN:
        return arith(st, n, v, out);
    case OP_MERGE:
        return merge(st, v, n->nargs, out);
    case OP_IN:
        return in_op(st, v, out);
    case OP_CAT: {
        sbuf b = {0};
        sb_add(st, &b, "", 0);
        for (uint32_t i = 0; i < n->nargs; i++)
            sb_val(st, &b, &v[i], true);
        if (b.oom) return FD_ETOOBIG;
        *out = (jl_val){.t = JL_STR, .s = b.p, .len = b.len};
        return FD_OK;
    }
    case OP_SUBSTR:
        return substr(st, v, n->nargs, out);
    case OP_LOG:
        *out = v[0];
        return FD_OK;
    default:
        return fidelis_op(st, n, v, out);
    }
}

int jl_eval(const jl_expr *e, const json_t *data, const jl_env *env, jl_ctx *c, jl_val *out)
{
    arena_reset(c);
    jl_val root = from_json(data);
    state st = {e, c, env, &root, 0};
    return ev(&st, e->root, &root, out);
}

bool jl_test(const jl_expr *e, const json_t *data, const jl_env *env, jl_ctx *c)
{
    jl_val v;
    return jl_eval(e, data, env, c, &v) == FD_OK && jl_truthy(&v);
}

json_t *jl_to_json(const jl_val *v)
{
    switch (v->t) {
    case JL_NULL:
        return json_null();
    case JL_BOOL:
        return json_boolean(v->b);
    case JL_NUM:
        if (!isfinite(v->n)) return json_null();
        if (v->n == trunc(v->n) && fabs(v->n) < 9e15) return json_integer((json_int_t)v->n);
        return json_real(v->n);
    case JL_STR:
        return json_stringn(v->s, v->len);
    case JL_JSON:
        return json_deep_copy(v->j);
    case JL_ARR: {
        json_t *a = json_array();
        for (size_t i = 0; i < v->count; i++)
            json_array_append_new(a, jl_to_json(&v->items[i]));
        return a;
    }
    case JL_SCOPE: {
        return json_pack("{s:o, s:o}", "current", jl_to_json(&v->items[0]), "accumulator",
                         jl_to_json(&v->items[1]));
    }
    }
    return json_null();
}
