/*
 * test_outbox.c - fd_webhook_wants (store/outbox.c) reads a webhook's
 * subscription list without parsing it: on every subset of a set of type
 * names that share prefixes and suffixes, as the API stores them
 * (fd_json_text), it answers as a parse of the list would.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/jsonx.h"
#include "store/outbox.h"

static const char *const TYPES[] = {"points.earned",
                                    "points.expired",
                                    "points.expiring_soon",
                                    "reward.redeemed",
                                    "voucher.redeemed",
                                    "tier.changed",
                                    "*"};
enum { NTYPES = sizeof TYPES / sizeof TYPES[0] };

/* What a parse of the list says: type is in it, or "*" is. */
static int parsed_wants(const json_t *list, const char *type)
{
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e)
    {
        const char *s = json_string_value(e);
        if (!strcmp(s, "*") || !strcmp(s, type)) return 1;
    }
    return 0;
}

static void wants_as_a_parse_would(void **state)
{
    (void)state;
    int matched = 0;
    for (unsigned set = 1; set < 1u << NTYPES; set++) {
        json_t *list = json_array();
        for (int k = 0; k < NTYPES; k++)
            if (set & 1u << k) json_array_append_new(list, json_string(TYPES[k]));
        char *text = fd_json_text(list, false);
        for (int k = 0; k < NTYPES - 1; k++) { /* every type but "*" is asked for */
            int want = parsed_wants(list, TYPES[k]);
            assert_int_equal(fd_webhook_wants(text, TYPES[k]), want);
            matched += want;
        }
        assert_int_equal(fd_webhook_wants(text, "points"), parsed_wants(list, "points"));
        assert_int_equal(fd_webhook_wants(text, "redeemed"), parsed_wants(list, "redeemed"));
        free(text);
        json_decref(list);
    }
    assert_true(matched > 0);
}

static void a_type_longer_than_any_is_not_wanted(void **state)
{
    (void)state;
    char type[128];
    memset(type, 'a', sizeof type - 1);
    type[sizeof type - 1] = '\0';
    assert_int_equal(fd_webhook_wants("[\"points.earned\"]", type), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(wants_as_a_parse_would),
        cmocka_unit_test(a_type_longer_than_any_is_not_wanted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
