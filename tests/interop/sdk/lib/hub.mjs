// Shared helpers for the SDK interop tests: the served hub's coordinates (from run.sh), SDK loading, device setup, bounded waits and the admin API.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import assert from 'node:assert/strict';

const require = createRequire(import.meta.url);

// The official SDKs (CommonJS); loaded through require so named exports are exact.
export const device = require('azure-iot-device');
export const { Mqtt } = require('azure-iot-device-mqtt');
export const { Amqp } = require('azure-iot-device-amqp');
export const { Http } = require('azure-iot-device-http');
export const iothub = require('azure-iothub');

export const PROTOCOLS = { mqtt: Mqtt, amqp: Amqp, http: Http };

function need(name) {
    const v = process.env[name];
    if (!v) {
        throw new Error(`${name} is not set: run these tests through tests/interop/sdk/run.sh (it starts hubsim serve)`);
    }
    return v;
}

// What run.sh learnt from `hubsim serve`'s banner.
export const env = {
    serviceConnectionString: need('HUBSIM_SERVICE_CS'),
    deviceTemplate: need('HUBSIM_DEVICE_CS_TEMPLATE'),
    adminUrl: need('HUBSIM_ADMIN_URL').replace(/\/+$/, ''),
    caPath: need('HUBSIM_CA'),
};
export const caPem = readFileSync(env.caPath, 'utf8');

// Per-test time limits (ms): every wait below is bounded by one of these.
export const T = {
    test: 30_000,
    slowTest: 60_000,
    step: 10_000,
    feedback: 15_000, // feedback is batched by the hub; run.sh's hub.json flushes a partial batch after 1 s
};

export function sleep(ms) {
    return new Promise((r) => setTimeout(r, ms));
}

// Rejects when the promise does not settle within ms: no test waits forever on an SDK callback.
export function within(ms, promise, what) {
    let timer;
    const timeout = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// Resolves with the first value of an event for which pick() returns something defined.
export function waitForEvent(emitter, event, pick, ms, what) {
    return within(
        ms,
        new Promise((resolve) => {
            const on = (...args) => {
                let v;
                try {
                    v = pick(...args);
                } catch {
                    v = undefined;
                }
                if (v !== undefined) {
                    emitter.removeListener(event, on);
                    resolve(v);
                }
            };
            emitter.on(event, on);
        }),
        what,
    ).catch((e) => {
        emitter.removeAllListeners(event);
        throw e;
    });
}

export function deviceConnectionString(deviceId, key) {
    return env.deviceTemplate.replace('{deviceId}', deviceId).replace('{key}', key);
}

export function registry() {
    return iothub.Registry.fromConnectionString(env.serviceConnectionString);
}

// Creates a fresh device identity (deleting a leftover of the same id first) and returns its primary key.
export async function createDevice(deviceId) {
    const reg = registry();
    try {
        await within(T.step, reg.delete(deviceId), `delete leftover ${deviceId}`);
    } catch {
        // not there: the normal case on a fresh hub
    }
    const { responseBody: dev } = await within(T.step, reg.create({ deviceId }), `registry create ${deviceId}`);
    assert.equal(dev.deviceId, deviceId, 'registry create echoes the device id');
    const key = dev.authentication && dev.authentication.symmetricKey && dev.authentication.symmetricKey.primaryKey;
    assert.ok(key, `registry create returned a generated primary key for ${deviceId} (got ${JSON.stringify(dev.authentication)})`);
    return key;
}

// An open device client over the given protocol, trusting the test CA.
export async function openDevice(protocol, deviceId, key) {
    const client = device.Client.fromConnectionString(deviceConnectionString(deviceId, key), PROTOCOLS[protocol]);
    // HTTP's setOptions only calls back when the options carry a receive policy (docs/sdk-wire.md, item 13).
    const options = protocol === 'http' ? { ca: caPem, http: { receivePolicy: { interval: 1 } } } : { ca: caPem };
    await within(T.step, client.setOptions(options), `${protocol} setOptions`);
    await within(T.step, client.open(), `${protocol} open ${deviceId}`);
    return client;
}

export async function closeQuietly(client) {
    if (!client) return;
    try {
        await within(T.step, client.close(), 'close');
    } catch {
        // closing is best effort in teardown
    }
}

export function serviceClient() {
    return iothub.Client.fromConnectionString(env.serviceConnectionString);
}

// ---- admin API (docs/serve.md) ----------------------------------------------------

export async function admin(path, init) {
    const res = await within(T.step, fetch(env.adminUrl + path, init), `admin ${path}`);
    const text = await res.text();
    let body;
    try {
        body = text ? JSON.parse(text) : undefined;
    } catch {
        body = text;
    }
    return { status: res.status, body };
}

// The body of a logged message as text: `body` when it is UTF-8, else `bodyBase64` (docs/serve.md).
export function bodyText(entry) {
    if (typeof entry.body === 'string') return entry.body;
    if (typeof entry.bodyBase64 === 'string') return Buffer.from(entry.bodyBase64, 'base64').toString('utf8');
    return undefined;
}

// Polls GET /endpoints/{endpoint}/messages (paging with `next`) until a message carries this messageId.
// The answer is {"endpoint","messages":[{"seq","partition","enqueuedTimeUnixMs","systemProperties","appProperties","body"|"bodyBase64"}],"next",...}.
export async function findRouted(endpoint, messageId, ms = T.step) {
    const deadline = Date.now() + ms;
    let last;
    let from = 0;
    while (Date.now() < deadline) {
        last = await admin(`/endpoints/${endpoint}/messages?from=${from}`);
        assert.equal(last.status, 200, `GET /endpoints/${endpoint}/messages: ${JSON.stringify(last.body)}`);
        assert.ok(Array.isArray(last.body.messages), 'the endpoint log has a messages array');
        const hit = last.body.messages.find((e) => e.systemProperties && e.systemProperties.messageId === messageId);
        if (hit) return hit;
        if (last.body.messages.length > 0 && typeof last.body.next === 'number') {
            from = last.body.next;
            continue;
        }
        await sleep(200);
    }
    throw new Error(`message ${messageId} not in /endpoints/${endpoint}/messages within ${ms} ms; last answer: ${JSON.stringify(last && last.body).slice(0, 600)}`);
}

// ---- feedback ---------------------------------------------------------------------

// Waits on a service feedback receiver for a record about originalMessageId; returns [record, batch message].
export function waitForFeedback(receiver, originalMessageId, ms = T.feedback) {
    return waitForEvent(
        receiver,
        'message',
        (msg) => {
            const records = JSON.parse(Buffer.from(msg.getData()).toString('utf8'));
            const list = Array.isArray(records) ? records : [records];
            const rec = list.find((r) => r && r.originalMessageId === originalMessageId);
            if (rec) receiver.complete(msg, () => {});
            return rec ? [rec, msg] : undefined;
        },
        ms,
        `feedback for ${originalMessageId}`,
    );
}

// ---- direct methods ---------------------------------------------------------------

// invokeDeviceMethod, retried (bounded) while the hub says the device is not online yet: the device
// client subscribes to methods asynchronously and gives the application no completion signal.
export async function invokeWhenOnline(svc, deviceId, params, ms = T.step) {
    const deadline = Date.now() + ms;
    for (;;) {
        try {
            return await within(
                (params.responseTimeoutInSeconds || 30) * 1000 + T.step,
                svc.invokeDeviceMethod(deviceId, { ...params }),
                `invoke ${params.methodName} on ${deviceId}`,
            );
        } catch (e) {
            const notOnline = e && e.response && e.response.statusCode === 404 && e.name !== 'DeviceNotFoundError';
            if (!notOnline || Date.now() > deadline) throw e;
            await sleep(250);
        }
    }
}
