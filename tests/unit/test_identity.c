/*
 * test_identity.c - email and phone normalisation (core/identity.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/fd.h"
#include "core/identity.h"

static void email(void **state)
{
    (void)state;
    char out[FD_EMAIL_MAX + 1];
    assert_int_equal(fd_email_normalize("Jo.Doe+promo@Gmail.com", out), FD_OK);
    assert_string_equal(out, "jodoe@gmail.com");
    assert_int_equal(fd_email_normalize("j.o.d.o.e@googlemail.com", out), FD_OK);
    assert_string_equal(out, "jodoe@gmail.com");
    assert_int_equal(fd_email_normalize("  Anna.Smith+x@Example.ORG ", out), FD_OK);
    assert_string_equal(out, "anna.smith@example.org"); /* dots kept outside Gmail */
    assert_int_equal(fd_email_normalize("no-at-sign", out), FD_EINVAL);
    assert_int_equal(fd_email_normalize("a@b@c.com", out), FD_EINVAL);
    assert_int_equal(fd_email_normalize("@example.com", out), FD_EINVAL);
    assert_int_equal(fd_email_normalize("+tag@example.com", out), FD_EINVAL);
    assert_int_equal(fd_email_normalize("a@localhost", out), FD_EINVAL);
    assert_int_equal(fd_email_normalize("a b@example.com", out), FD_EINVAL);
    assert_int_equal(fd_email_normalize("", out), FD_EINVAL);
    char longmail[400];
    memset(longmail, 'a', 300);
    strcpy(longmail + 300, "@example.com");
    assert_int_equal(fd_email_normalize(longmail, out), FD_EINVAL);
}

static void phone(void **state)
{
    (void)state;
    char out[22];
    assert_int_equal(fd_phone_normalize("+49 (30) 123-456.7", out), FD_OK);
    assert_string_equal(out, "+49301234567");
    assert_int_equal(fd_phone_normalize("1234", out), FD_EINVAL);
    assert_int_equal(fd_phone_normalize("12345x", out), FD_EINVAL);
    assert_int_equal(fd_phone_normalize("123456789012345678901", out), FD_EINVAL);
    assert_int_equal(fd_phone_normalize("12+345678", out), FD_EINVAL);
}

static void identifiers(void **state)
{
    (void)state;
    assert_true(fd_ident_valid("order-1001"));
    assert_false(fd_ident_valid(""));
    assert_false(fd_ident_valid("has space"));
    assert_false(fd_ident_valid("tab\there"));
    char big[300];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    assert_false(fd_ident_valid(big));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(email),
        cmocka_unit_test(phone),
        cmocka_unit_test(identifiers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
