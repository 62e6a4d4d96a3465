/* Tests of the hub message model: ownership, character rules, MessageId, size accounting and limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sim/hub/message.h"

/* The sets below are typed from the spec sentences, not derived from the code. */
/* message-format.txt: "ASCII alphanumeric characters, plus {'!', '#', '$', '%, '&', "'", '*',
 * '*', '+', '-', '.', '^', '_', '`', '|', '~'}" */
static const char PROP_EXTRA[] = "!#$%&'*+-.^_`|~";
/* direct-methods.txt: "US-ASCII printable alphanumeric, except any in the following set: $ ( ) < >
 * @ , ; : \ " / [ ] ? = { } SP HT" */
static const char METHOD_FORBIDDEN[] = "$()<>@,;:\\\"/[]?={} \t";
/* message-format.txt MessageId: "{'-', ':', '.', '+', '%', '_', '#', '*', '?', '!', '(', ')', ',',
 * '=', '@', ';', '$', '''}" */
static const char ID_EXTRA[] = "-:.+%_#*?!(),=@;$'";

static int is_alnum_lit(int c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int in_set(const char *set, int c)
{
    for (const char *p = set; *p; p++)
        if ((unsigned char)*p == c)
            return 1;
    return 0;
}

static void test_prop_chars_every_byte(void **state)
{
    (void)state;
    int allowed = 0;
    for (int c = 1; c < 256; c++) {
        int expect = is_alnum_lit(c) || in_set(PROP_EXTRA, c);
        assert_int_equal(hub_msg_prop_char_ok((unsigned char)c), expect);
        allowed += expect;
    }
    assert_int_equal(allowed, 62 + 15);
    assert_false(hub_msg_prop_char_ok(0));
}

static void test_method_chars_every_byte(void **state)
{
    (void)state;
    for (int c = 1; c < 256; c++) {
        int printable = c >= 0x21 && c <= 0x7E;
        int expect = printable && !in_set(METHOD_FORBIDDEN, c);
        assert_int_equal(hub_msg_method_char_ok((unsigned char)c), expect);
    }
    assert_false(hub_msg_method_char_ok(' '));
    assert_false(hub_msg_method_char_ok('\t'));
    assert_false(hub_msg_method_char_ok(0x7F));
    assert_true(hub_msg_method_char_ok('~'));
}

static void test_method_name_each_forbidden(void **state)
{
    (void)state;
    hub_msg_violation_t v;
    assert_int_equal(hub_msg_check_method_name("reboot_now-1", 100, &v), HUB_EOK);
    for (const char *p = METHOD_FORBIDDEN; *p; p++) {
        char name[8] = "ab?cd";
        name[2] = *p;
        assert_int_equal(hub_msg_check_method_name(name, 100, &v), HUB_EARGUMENT_INVALID);
        assert_int_equal(v.offset, 2);
        assert_int_equal(v.ch, (unsigned char)*p);
        assert_int_equal(v.where, HUB_MSG_WHERE_TEXT);
    }
    assert_int_equal(hub_msg_check_method_name("", 100, &v), HUB_EARGUMENT_INVALID);
    assert_int_equal(hub_msg_check_method_name(NULL, 100, &v), HUB_EARGUMENT_NULL);
    assert_int_equal(hub_msg_check_method_name("caf\xc3\xa9", 100, &v), HUB_EARGUMENT_INVALID);
    assert_int_equal(v.offset, 3);
}

static void test_method_name_length_knob(void **state)
{
    (void)state;
    char name[102];
    memset(name, 'm', 101);
    name[101] = '\0';
    name[100] = '\0';
    assert_int_equal(hub_msg_check_method_name(name, 100, NULL), HUB_EOK);
    name[100] = 'm';
    assert_int_equal(hub_msg_check_method_name(name, 100, NULL), HUB_EARGUMENT_INVALID);
    assert_int_equal(hub_msg_check_method_name(name, 0, NULL), HUB_EOK);
}

static void test_message_id_128_vs_129(void **state)
{
    (void)state;
    char id[131];
    memset(id, 'a', sizeof(id));
    id[128] = '\0';
    hub_msg_violation_t v;
    assert_int_equal(hub_msg_check_message_id(id, 128, &v), HUB_EOK);
    id[128] = 'a';
    id[129] = '\0';
    assert_int_equal(hub_msg_check_message_id(id, 128, &v), HUB_EARGUMENT_INVALID);
    assert_int_equal(v.offset, 129);
    assert_int_equal(hub_msg_check_message_id("", 128, &v), HUB_EARGUMENT_INVALID);
}

static void test_message_id_every_byte(void **state)
{
    (void)state;
    int allowed = 0;
    for (int c = 1; c < 256; c++) {
        int expect = is_alnum_lit(c) || in_set(ID_EXTRA, c);
        assert_int_equal(hub_msg_id_char_ok((unsigned char)c), expect);
        char id[4] = { 'x', (char)c, 'y', 0 };
        hub_msg_violation_t v;
        hub_err_t e = hub_msg_check_message_id(id, 128, &v);
        assert_int_equal(e, expect ? HUB_EOK : HUB_EARGUMENT_INVALID);
        if (!expect) {
            assert_int_equal(v.offset, 1);
            assert_int_equal(v.ch, c);
        }
        allowed += expect;
    }
    assert_int_equal(allowed, 62 + 18);
}

static void test_app_prop_chars_report_where(void **state)
{
    (void)state;
    hub_msg_t *m = hub_msg_new();
    assert_non_null(m);
    assert_int_equal(hub_msg_add_app(m, "temp", "21.5"), HS_EOK);
    assert_int_equal(hub_msg_add_app(m, "unit", "deg C"), HS_EOK);
    hub_msg_violation_t v;
    assert_int_equal(hub_msg_check_prop_chars(m, &v), HUB_EARGUMENT_INVALID);
    assert_int_equal(v.where, HUB_MSG_WHERE_APP_VALUE);
    assert_int_equal(v.index, 1);
    assert_int_equal(v.offset, 3);
    assert_int_equal(v.ch, ' ');
    assert_non_null(strstr(v.detail, "unit"));
    assert_int_equal(hub_msg_set_app(m, "unit", "degC"), HS_EOK);
    assert_int_equal(hub_msg_check_prop_chars(m, &v), HUB_EOK);
    assert_int_equal(hub_msg_add_app(m, "a/b", "x"), HS_EOK);
    assert_int_equal(hub_msg_check_prop_chars(m, &v), HUB_EARGUMENT_INVALID);
    assert_int_equal(v.where, HUB_MSG_WHERE_APP_NAME);
    assert_int_equal(v.index, 2);
    assert_int_equal(v.ch, '/');
    /* Every forbidden printable character in a value is caught. */
    assert_int_equal(hub_msg_remove_app(m, "a/b"), 1);
    for (int c = 0x20; c < 0x7F; c++) {
        if (is_alnum_lit(c) || in_set(PROP_EXTRA, c))
            continue;
        char val[3] = { 'v', (char)c, 0 };
        assert_int_equal(hub_msg_set_app(m, "k", val), HS_EOK);
        assert_int_equal(hub_msg_check_prop_chars(m, &v), HUB_EARGUMENT_INVALID);
        assert_int_equal(v.ch, c);
    }
    hub_msg_free(m);
}

static void test_size_accounting(void **state)
{
    (void)state;
    hub_msg_t *m = hub_msg_new();
    assert_int_equal(hub_msg_size(m, true), 0);
    assert_int_equal(hub_msg_set_body(m, "hello", 5), HS_EOK);
    assert_int_equal(hub_msg_set_sys(m, HUB_SYS_MESSAGE_ID, "m1"), HS_EOK);          /* 2 */
    assert_int_equal(hub_msg_set_sys(m, HUB_SYS_CONTENT_TYPE, "application/json"), HS_EOK); /* 16 */
    assert_int_equal(hub_msg_add_app(m, "k", "vv"), HS_EOK);                         /* 3 */
    assert_int_equal(hub_msg_set_sys(m, HUB_SYS_CONNECTION_DEVICE_ID, "dev-1"), HS_EOK); /* 5 stamped */
    assert_int_equal(hub_msg_size(m, false), 5 + 2 + 16 + 3);
    assert_int_equal(hub_msg_size(m, true), 5 + 2 + 16 + 3 + 5);
    hub_msg_clear_stamped(m);
    assert_null(hub_msg_get_sys(m, HUB_SYS_CONNECTION_DEVICE_ID));
    assert_string_equal(hub_msg_get_sys(m, HUB_SYS_MESSAGE_ID), "m1");
    hub_msg_free(m);
}

/* A message whose size is exactly `total` bytes: body fills the rest after props. */
static hub_msg_t *msg_of_size(size_t total)
{
    hub_msg_t *m = hub_msg_new();
    assert_int_equal(hub_msg_set_sys(m, HUB_SYS_MESSAGE_ID, "id-1"), HS_EOK);
    assert_int_equal(hub_msg_add_app(m, "p", "q"), HS_EOK);
    size_t body = total - 4 - 2;
    unsigned char *b = malloc(body);
    assert_non_null(b);
    memset(b, 'x', body);
    assert_int_equal(hub_msg_take_body(m, b, body), HS_EOK);
    assert_int_equal(hub_msg_size(m, false), total);
    return m;
}

/* A message built with its body inline: the body is the message's, replacing
 * it frees nothing twice, and handing the inline body back to take is refused. */
static void test_inline_body(void **state)
{
    (void)state;
    void *b = NULL;
    hub_msg_t *m = hub_msg_new_with_body(5, &b);
    assert_non_null(m);
    memcpy(b, "hello", 5);
    size_t len = 0;
    assert_memory_equal(hub_msg_body(m, &len), "hello", 5);
    assert_int_equal(len, 5);
    assert_int_equal(hub_msg_take_body(m, b, 5), HS_EINVAL);
    assert_memory_equal(hub_msg_body(m, &len), "hello", 5);
    hub_msg_t *c = hub_msg_clone(m);
    assert_non_null(c);
    char *nb = malloc(3);
    memcpy(nb, "abc", 3);
    assert_int_equal(hub_msg_take_body(m, nb, 3), HS_EOK);
    assert_memory_equal(hub_msg_body(m, &len), "abc", 3);
    assert_memory_equal(hub_msg_body(c, &len), "hello", 5);
    hub_msg_free(m);
    hub_msg_free(c);
}

static void test_d2c_limit_256k(void **state)
{
    (void)state;
    hub_msg_rules_t r;
    hub_msg_rules_d2c(&r, true, 1024);
    hub_msg_violation_t v;
    hub_msg_t *m = msg_of_size(262144);
    assert_int_equal(hub_msg_validate(m, &r, &v), HUB_EOK);
    hub_msg_free(m);
    m = msg_of_size(262145);
    assert_int_equal(hub_msg_validate(m, &r, &v), HUB_EMESSAGE_TOO_LARGE);
    assert_int_equal(v.size, 262145);
    assert_int_equal(v.where, HUB_MSG_WHERE_SIZE);
    /* KB = 1000 knob moves the limit. */
    hub_msg_rules_d2c(&r, true, 1000);
    assert_int_equal(hub_msg_validate(m, &r, &v), HUB_EMESSAGE_TOO_LARGE);
    hub_msg_free(m);
    m = msg_of_size(256000);
    assert_int_equal(hub_msg_validate(m, &r, &v), HUB_EOK);
    hub_msg_free(m);
}

static void test_c2d_limit_64k(void **state)
{
    (void)state;
    hub_msg_rules_t r;
    hub_msg_rules_c2d(&r, 1024);
    hub_msg_t *m = msg_of_size(65536);
    assert_int_equal(hub_msg_validate(m, &r, NULL), HUB_EOK);
    hub_msg_free(m);
    m = msg_of_size(65537);
    assert_int_equal(hub_msg_validate(m, &r, NULL), HUB_EMESSAGE_TOO_LARGE);
    hub_msg_free(m);
}

static void test_validate_order_and_mqtt_skips_chars(void **state)
{
    (void)state;
    hub_msg_t *m = hub_msg_new();
    assert_int_equal(hub_msg_add_app(m, "sp ace", "v"), HS_EOK);
    hub_msg_rules_t r;
    hub_msg_rules_d2c(&r, false, 1024); /* MQTT/AMQP D2C: the char rule does not apply */
    assert_int_equal(hub_msg_validate(m, &r, NULL), HUB_EOK);
    hub_msg_rules_d2c(&r, true, 1024);
    assert_int_equal(hub_msg_validate(m, &r, NULL), HUB_EARGUMENT_INVALID);
    assert_int_equal(hub_msg_set_sys(m, HUB_SYS_MESSAGE_ID, "bad id"), HS_EOK);
    hub_msg_violation_t v;
    assert_int_equal(hub_msg_validate(m, &r, &v), HUB_EARGUMENT_INVALID);
    assert_int_equal(v.where, HUB_MSG_WHERE_MESSAGE_ID);
    hub_msg_free(m);
}

static void test_ack_and_lookup(void **state)
{
    (void)state;
    hub_msg_t *m = hub_msg_new();
    hub_ack_t a;
    assert_int_equal(hub_msg_get_ack(m, &a), HUB_EOK);
    assert_int_equal(a, HUB_ACK_NONE);
    const char *names[] = { "none", "positive", "negative", "full" };
    for (int i = 0; i < 4; i++) {
        assert_int_equal(hub_msg_set_sys(m, HUB_SYS_ACK, names[i]), HS_EOK);
        assert_int_equal(hub_msg_get_ack(m, &a), HUB_EOK);
        assert_int_equal((int)a, i);
        assert_string_equal(hub_ack_name(a), names[i]);
    }
    assert_int_equal(hub_msg_set_sys(m, HUB_SYS_ACK, "Full"), HS_EOK);
    assert_int_equal(hub_msg_get_ack(m, &a), HUB_EOK);
    assert_int_equal(a, HUB_ACK_FULL);
    assert_int_equal(hub_msg_set_sys(m, HUB_SYS_ACK, "always"), HS_EOK);
    assert_int_equal(hub_msg_get_ack(m, &a), HUB_EARGUMENT_INVALID);
    hub_msg_sys_t id;
    assert_int_equal(hub_msg_sys_lookup("connectionDeviceId", &id), HS_EOK);
    assert_int_equal(id, HUB_SYS_CONNECTION_DEVICE_ID);
    assert_int_equal(hub_msg_sys_lookup("iothub-connection-device-id", &id), HS_EOK);
    assert_int_equal(id, HUB_SYS_CONNECTION_DEVICE_ID);
    assert_int_equal(hub_msg_sys_lookup("MESSAGEID", &id), HS_EOK);
    assert_int_equal(id, HUB_SYS_MESSAGE_ID);
    assert_int_equal(hub_msg_sys_lookup("nope", &id), HS_ENOTFOUND);
    assert_int_equal(hub_msg_set_sys(m, (hub_msg_sys_t)HUB_SYS__COUNT, "x"), HS_EINVAL);
    assert_true(hub_msg_sys_is_stamped(HUB_SYS_ENQUEUED_TIME));
    assert_false(hub_msg_sys_is_stamped(HUB_SYS_CORRELATION_ID));
    hub_msg_free(m);
}

static void test_clone_and_app_list(void **state)
{
    (void)state;
    hub_msg_t *m = hub_msg_new();
    assert_int_equal(hub_msg_set_body(m, "\0bin\0", 5), HS_EOK);
    assert_int_equal(hub_msg_add_app(m, "a", "1"), HS_EOK);
    assert_int_equal(hub_msg_add_app(m, "b", NULL), HS_EOK);
    assert_int_equal(hub_msg_add_app(m, "a", "2"), HS_EOK);
    assert_int_equal(hub_msg_set_sys(m, HUB_SYS_TO, "/devices/d/messages/devicebound"), HS_EOK);
    hub_msg_t *c = hub_msg_clone(m);
    hub_msg_free(m);
    assert_non_null(c);
    size_t len;
    const unsigned char *b = hub_msg_body(c, &len);
    assert_int_equal(len, 5);
    assert_memory_equal(b, "\0bin\0", 5);
    assert_int_equal(hub_msg_app_count(c), 3);
    const char *n, *v;
    assert_int_equal(hub_msg_app_at(c, 2, &n, &v), HS_EOK);
    assert_string_equal(n, "a");
    assert_string_equal(v, "2");
    assert_string_equal(hub_msg_get_app(c, "a"), "1");
    assert_string_equal(hub_msg_get_app(c, "b"), "");
    assert_int_equal(hub_msg_app_at(c, 3, &n, &v), HS_ERANGE);
    assert_int_equal(hub_msg_remove_app(c, "a"), 2);
    assert_int_equal(hub_msg_app_count(c), 1);
    assert_int_equal(hub_msg_add_app(c, NULL, "x"), HS_EINVAL);
    assert_int_equal(hub_msg_set_body(c, NULL, 3), HS_EINVAL);
    assert_int_equal(hub_msg_set_body(c, NULL, 0), HS_EOK);
    b = hub_msg_body(c, &len);
    assert_int_equal(len, 0);
    assert_non_null(b);
    hub_msg_free(c);
    hub_msg_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prop_chars_every_byte),
        cmocka_unit_test(test_method_chars_every_byte),
        cmocka_unit_test(test_method_name_each_forbidden),
        cmocka_unit_test(test_method_name_length_knob),
        cmocka_unit_test(test_message_id_128_vs_129),
        cmocka_unit_test(test_message_id_every_byte),
        cmocka_unit_test(test_app_prop_chars_report_where),
        cmocka_unit_test(test_size_accounting),
        cmocka_unit_test(test_d2c_limit_256k),
        cmocka_unit_test(test_c2d_limit_64k),
        cmocka_unit_test(test_validate_order_and_mqtt_skips_chars),
        cmocka_unit_test(test_ack_and_lookup),
        cmocka_unit_test(test_clone_and_app_list),
        cmocka_unit_test(test_inline_body),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
