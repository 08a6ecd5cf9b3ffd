/*
 * test_address.c - which addresses webhooks may not reach by default
 * (jobs/webhooks.c: fd_address_private).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "jobs/webhooks.h"

static void private_and_public(void **state)
{
    (void)state;
    static const char *const PRIVATE[] = {"127.0.0.1",
                                          "127.255.0.9",
                                          "10.1.2.3",
                                          "172.16.0.1",
                                          "172.31.255.255",
                                          "192.168.1.1",
                                          "169.254.169.254",
                                          "0.0.0.0",
                                          "100.64.0.1",
                                          "::1",
                                          "::",
                                          "fd00::1",
                                          "fe80::1",
                                          "::ffff:10.0.0.1",
                                          "::ffff:127.0.0.1",
                                          "not an address"};
    static const char *const PUBLIC[] = {"8.8.8.8",        "172.32.0.1",  "172.15.255.255",
                                         "192.169.0.1",    "100.128.0.1", "2606:4700::1111",
                                         "::ffff:1.1.1.1", "11.0.0.1"};
    for (size_t i = 0; i < sizeof PRIVATE / sizeof *PRIVATE; i++)
        if (!fd_address_private(PRIVATE[i])) fail_msg("%s should be private", PRIVATE[i]);
    for (size_t i = 0; i < sizeof PUBLIC / sizeof *PUBLIC; i++)
        if (fd_address_private(PUBLIC[i])) fail_msg("%s should be public", PUBLIC[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(private_and_public)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
