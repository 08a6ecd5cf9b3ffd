/*
 * jsonlogic.h - JSONLogic (jsonlogic.com), compiled once and evaluated many
 * times. The semantics follow the reference implementation (json-logic-js):
 * JavaScript truthiness (empty arrays are false), loose `==`, parseFloat in
 * `+` and `*`, `var` with dotted paths and defaults, short-circuit `and`/`or`.
 * The official test suite passes in full (tests/unit/test_jsonlogic.c).
 *
 * Compile: jl_compile() checks every node (known operator, sane arity,
 * bounded depth and size) and builds a flat node array; a bad node is named
 * by its path ("/and/1/var"). Evaluate: jl_eval() walks the nodes against a
 * data document; it does no JSON parsing and allocates only from the
 * caller's jl_ctx scratch arena, which is reused from one evaluation to the
 * next. Each evaluation has a step budget and a memory budget, so no
 * expression and no data can make it run away.
 *
 * Fidelis operators (docs/rules.md): weekday, hour, days_since,
 * in_segment, tier.
 */
#ifndef FD_JSONLOGIC_H
#define FD_JSONLOGIC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JL_DEPTH_MAX 32         /* nesting of an expression */
#define JL_NODES_MAX 2000       /* nodes of one expression */
#define JL_STEPS_MAX 200000     /* node evaluations per jl_eval */
#define JL_ARENA_MAX (8u << 20) /* scratch bytes per jl_eval */

typedef enum { JL_NULL, JL_BOOL, JL_NUM, JL_STR, JL_ARR, JL_JSON, JL_SCOPE } jl_type;

/* A value during evaluation. JL_JSON refers to an array or object of the
 * data (or of the expression's literals); JL_SCOPE is reduce's
 * {current, accumulator}. Values live until the next jl_eval on their ctx. */
typedef struct jl_val {
    jl_type t; /* which member of the union holds the value */
    union {
        bool b;   /* JL_BOOL */
        double n; /* JL_NUM */
        struct {
            const char *s; /* JL_STR: NUL-terminated, len bytes */
            size_t len;
        };
        struct {
            const struct jl_val *items; /* JL_ARR; JL_SCOPE: [current, accumulator] */
            size_t count;
        };
        const json_t *j; /* JL_JSON */
    };
} jl_val;

typedef struct jl_expr jl_expr;
typedef struct jl_ctx jl_ctx;

/* Environment the Fidelis operators read: the event's local time and the
 * data paths of the member's segments and tier. May be NULL. */
typedef struct jl_env {
    int64_t now;      /* event time, epoch seconds */
    int weekday;      /* 1 = Monday .. 7 = Sunday, in the program's timezone */
    int hour;         /* 0..23, in the program's timezone */
    int utc_offset_s; /* of the program's timezone at `now` */
} jl_env;

/* Compiles logic. On FD_EINVAL, err receives "<path>: <reason>". The
 * expression keeps no reference to logic. */
int jl_compile(const json_t *logic, jl_expr **out, char *err, size_t errlen);
void jl_free(jl_expr *e);

jl_ctx *jl_ctx_new(void);
void jl_ctx_free(jl_ctx *c);

/* Evaluates e against data (borrowed; may be NULL) and env. FD_ETOOBIG when
 * the step or memory budget is exhausted. */
int jl_eval(const jl_expr *e, const json_t *data, const jl_env *env, jl_ctx *c, jl_val *out);

/* JavaScript truthiness. */
bool jl_truthy(const jl_val *v);
/* A new JSON value for v (NaN and infinities become null). */
json_t *jl_to_json(const jl_val *v);
/* Convenience: evaluates and returns truthiness; errors are false. */
bool jl_test(const jl_expr *e, const json_t *data, const jl_env *env, jl_ctx *c);

/* Whether evaluating e may read the value at dotted path (or inside it, or a
 * value that contains it): through var, missing, missing_some, and tier and
 * in_segment (member.tier, member.segments). Conservative: a path that is
 * computed, or the whole data, answers true. Lets callers skip building
 * parts of the data no expression looks at. */
bool jl_may_read(const jl_expr *e, const char *path);

#endif
