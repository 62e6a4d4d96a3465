/* Hub model benchmark: D2C accepts/s (256-byte body, 3 properties), method round trips/s, bytes per idle device. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <malloc.h>

#include "sim/hub/auth.h"
#include "sim/hub/hub.h"

/* The bench measures wall time (it is not under sim/); the model itself
 * runs in virtual time and never sees this clock. */
static double wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

#define KEY "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define EPOCH 1767225600LL

static void ep_deliver(void *ctx, const char *ep, const hub_msg_t *m, uint32_t dev)
{
    (void)ep;
    (void)m;
    (void)dev;
    (*(uint64_t *)ctx)++;
}
static const hub_endpoint_ops_t ep_ops = { .deliver = ep_deliver };

typedef struct {
    hub_t *hub;
    uint64_t requests;
} bench_dev_t;

static void on_method(void *ctx, hub_conn_t c, const char *name, const char *rid, const char *p,
                      size_t len)
{
    (void)name;
    bench_dev_t *d = ctx;
    d->requests++;
    /* Answer at once, echoing the payload. */
    (void)hub_device_method_respond(d->hub, c, rid, 200, p, len);
}
static const hub_sink_ops_t sink_ops = { .method_request = on_method };

static void on_result(void *ctx, const hub_method_result_t *r)
{
    if (r->http_status == 200)
        (*(uint64_t *)ctx)++;
}

static hub_t *make_hub(sim_kernel_t *k)
{
    hub_t *hub = NULL;
    char why[256];
    if (hub_new(k, NULL, &hub, why, sizeof why) != HS_EOK) {
        fprintf(stderr, "hub_new: %s\n", why);
        exit(3);
    }
    return hub;
}

static hub_conn_t connect_dev(hub_t *hub, const char *id, bench_dev_t *d)
{
    hub_identity_spec_t s = { .device_id = id, .primary_key = KEY };
    if (hub_identity_create(hub, &s, NULL) != HUB_EOK)
        exit(3);
    char res[256], tok[512];
    snprintf(res, sizeof res, "hubsim.azure-devices.net/devices/%s", id);
    hub_sas_make(KEY, res, EPOCH + 86400, NULL, tok, sizeof tok);
    hub_connect_params_t p = { .device_id = id, .sas_token = tok };
    hub_conn_t c = 0;
    if (hub_device_connect(hub, &p, &sink_ops, d, &c) != HUB_EOK)
        exit(3);
    hub_device_subscribe(hub, c, HUB_SUB_METHODS);
    return c;
}

static double bench_d2c(uint64_t n)
{
    sim_kernel_t *k = sim_kernel_new(1, EPOCH);
    hub_t *hub = make_hub(k);
    uint64_t delivered = 0;
    hub_set_endpoint_sink(hub, &ep_ops, &delivered);
    bench_dev_t d = { hub, 0 };
    hub_conn_t c = connect_dev(hub, "bench-d2c", &d);
    hub_msg_t *m = hub_msg_new();
    char body[256];
    memset(body, 'x', sizeof body);
    hub_msg_set_body(m, body, sizeof body);
    hub_msg_add_app(m, "temperature", "21.5");
    hub_msg_add_app(m, "unit", "C");
    hub_msg_add_app(m, "site", "north-7");
    double t0 = wall();
    for (uint64_t i = 0; i < n; i++) {
        if (hub_device_send_d2c(hub, c, m) != HUB_EOK) {
            fprintf(stderr, "d2c refused at %llu\n", (unsigned long long)i);
            exit(3);
        }
    }
    double dt = wall() - t0;
    if (delivered != n)
        exit(3);
    char why[256];
    if (hub_check(hub, why, sizeof why) != HS_EOK)
        exit(1);
    hub_msg_free(m);
    hub_free(hub);
    sim_kernel_free(k);
    return (double)n / dt;
}

static double bench_methods(uint64_t n)
{
    sim_kernel_t *k = sim_kernel_new(1, EPOCH);
    hub_t *hub = make_hub(k);
    bench_dev_t d = { hub, 0 };
    (void)connect_dev(hub, "bench-m", &d);
    hub_method_call_t call = { .device_id = "bench-m", .method_name = "reboot",
                               .payload = "{\"delay\":5}", .payload_len = 11 };
    uint64_t completed = 0;
    double t0 = wall();
    for (uint64_t i = 0; i < n; i++)
        if (hub_method_invoke(hub, &call, on_result, &completed, NULL) != HUB_EOK)
            exit(3);
    double dt = wall() - t0;
    if (completed != n)
        exit(3);
    hub_free(hub);
    sim_kernel_free(k);
    return (double)n / dt;
}

/* Registry bytes per device; *heap_out: malloc'd bytes per device,
 * allocator overhead included. */
static double bench_idle_bytes(uint32_t n, double *heap_out)
{
    sim_kernel_t *k = sim_kernel_new(1, EPOCH);
    hub_t *hub = make_hub(k);
    size_t before = hub_registry_bytes(hub);
    struct mallinfo2 mi0 = mallinfo2(); /* small blocks + mmap'd large ones */
    double heap0 = (double)mi0.uordblks + (double)mi0.hblkhd;
    char id[32];
    for (uint32_t i = 0; i < n; i++) {
        snprintf(id, sizeof id, "device-%06u", i);
        hub_identity_spec_t s = { .device_id = id }; /* keys derived: two 44-char keys each */
        if (hub_identity_create(hub, &s, NULL) != HUB_EOK)
            exit(3);
    }
    size_t after = hub_registry_bytes(hub);
    struct mallinfo2 mi1 = mallinfo2();
    *heap_out = ((double)mi1.uordblks + (double)mi1.hblkhd - heap0) / n;
    hub_free(hub);
    sim_kernel_free(k);
    return (double)(after - before) / n;
}

int main(int argc, char **argv)
{
    uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 2000000;
    double d2c = bench_d2c(n);
    double m = bench_methods(n / 4);
    double heap = 0;
    double bytes = bench_idle_bytes(100000, &heap);
    printf("d2c_accepts_per_sec %.0f (256-byte body, 3 app properties, routed to events)\n", d2c);
    printf("method_round_trips_per_sec %.0f (invoke + device answer + completion)\n", m);
    printf("bytes_per_idle_device %.1f (100000 devices with derived SAS keys; records+index+strings)\n",
           bytes);
    printf("heap_bytes_per_idle_device %.1f (malloc'd, allocator overhead included)\n", heap);
    return 0;
}
