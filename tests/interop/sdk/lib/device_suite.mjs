// The device-side interop cases, defined once and run per protocol (mqtt.test.mjs, amqp.test.mjs, http.test.mjs): telemetry, C2D + feedback, methods, twin, bad key.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import {
    device, T, within, waitForEvent, createDevice, openDevice, closeQuietly, serviceClient,
    findRouted, bodyText, waitForFeedback, invokeWhenOnline, deviceConnectionString, PROTOCOLS, caPem,
    registry,
} from './hub.mjs';

// azure-iothub exports no Message class: its samples use azure-iot-common's, which azure-iot-device re-exports.
const iothubMessage = device.Message;

// Everything a test opened, closed after the file whatever happened.
const open = [];
after(async () => {
    for (const c of open.reverse()) await closeQuietly(c);
    // Keep-alive sockets of the SDKs' HTTPS agents must not hold the file's process open; fires only if something still does.
    setTimeout(() => process.exit(process.exitCode ?? 0), 5000).unref();
});

async function deviceFor(protocol, name) {
    const id = `sdk-${protocol}-${name}`;
    const key = await createDevice(id);
    const client = await openDevice(protocol, id, key);
    open.push(client);
    return { id, key, client };
}

async function openService() {
    const svc = serviceClient();
    open.push(svc);
    await within(T.step, svc.open(), 'service client open (AMQP)');
    return svc;
}

// The app property as the SDK reports it: HTTP keeps the header name, lower-cased by Node (docs/sdk-wire.md, item 14).
function appProp(protocol, msg, key) {
    return msg.properties.getValue(protocol === 'http' ? `iothub-app-${key}`.toLowerCase() : key);
}

export function deviceSuite(protocol, { methods = true, twin = true, reject = false } = {}) {
    const P = protocol.toUpperCase();

    test(`${P}: telemetry with properties reaches the events endpoint with the hub's stamps`, { timeout: T.test }, async () => {
        const { id, client } = await deviceFor(protocol, 'telemetry');
        const messageId = `${protocol}-telemetry-1`;
        const body = JSON.stringify({ temperature: 21.5, protocol });
        const msg = new device.Message(body);
        msg.messageId = messageId;
        msg.correlationId = `${protocol}-corr-1`;
        msg.contentType = 'application/json';
        msg.contentEncoding = 'utf-8';
        // A space is legal in MQTT/AMQP property values (and exercises the MQTT bag's %20), not over HTTP (message-format.txt).
        const propValue = protocol === 'http' ? 'value-one' : 'value one';
        msg.properties.add('sdkProp', propValue);
        msg.properties.add('level', 'high');
        const sentAt = Date.now();
        await within(T.step, client.sendEvent(msg), 'sendEvent');
        const ackedAt = Date.now();

        const entry = await findRouted('events', messageId);
        assert.equal(bodyText(entry), body, 'body arrives unchanged');
        assert.deepEqual(entry.appProperties, { sdkProp: propValue, level: 'high' }, 'application properties, exactly');
        const sys = entry.systemProperties;
        assert.equal(sys.correlationId, `${protocol}-corr-1`, 'correlation id');
        assert.equal(sys.contentType, 'application/json', 'content type');
        assert.equal(sys.contentEncoding, 'utf-8', 'content encoding');
        assert.equal(sys.connectionDeviceId, id, 'the hub stamps the sending device');
        assert.match(String(sys.enqueuedTime), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/, 'the hub stamps an ISO enqueued time');
        // serve's kernel follows the wall clock, so the stamp is the instant the hub accepted the message. Its epoch is
        // whole Unix seconds (serve/wallclock.c), so hub time may lag up to 1 s behind the wall clock; never ahead of it.
        const enq = Date.parse(sys.enqueuedTime);
        assert.ok(enq >= sentAt - 1000 && enq <= ackedAt + 50,
            `enqueuedTime ${sys.enqueuedTime} lies between the send (${new Date(sentAt).toISOString()}) and its acknowledgement (${new Date(ackedAt).toISOString()})`);
        assert.ok(sys.connectionDeviceGenerationId, 'the hub stamps the generation id');
    });

    test(`${P}: C2D from the service client arrives with its properties, is completed, and full-ack feedback comes back`,
        { timeout: T.feedback + T.test }, async () => {
            const { id, client } = await deviceFor(protocol, 'c2d');
            const svc = await openService();
            const { result: receiver } = await within(T.step, svc.getFeedbackReceiver(), 'feedback receiver');
            const messageId = `${protocol}-c2d-1`;

            // A listener that stays: removing the last 'message' listener makes the device client disable C2D,
            // which over AMQP detaches the receiver link and the message could no longer be completed.
            client.on('message', () => {});
            const arrived = waitForEvent(client, 'message', (m) => (m.messageId === messageId ? m : undefined), T.step + 5000,
                `C2D ${messageId} at the device`);
            // No wait for the C2D subscription/link: the hub queues the message until the device takes it.
            const out = new iothubMessage('to the device');
            out.messageId = messageId;
            out.ack = 'full';
            out.properties.add('c2dProp', 'c2d-value'); // C2D property values: no spaces (message-format.txt)
            await within(T.step, svc.send(id, out), 'service send C2D');

            const m = await arrived;
            assert.equal(Buffer.from(m.getData()).toString('utf8'), 'to the device', 'C2D body');
            assert.equal(appProp(protocol, m, 'c2dProp'), 'c2d-value', 'C2D app property');
            await within(T.step, client.complete(m), 'complete');

            const [rec] = await waitForFeedback(receiver, messageId);
            assert.equal(rec.deviceId, id, 'feedback names the device');
            assert.equal(rec.statusCode, 'Success', 'completed message gives Success feedback');
            assert.ok(rec.deviceGenerationId, 'the record names the device generation');
            assert.ok(!Number.isNaN(Date.parse(rec.enqueuedTimeUtc)), `the record has an enqueued time (${rec.enqueuedTimeUtc})`);
        });

    if (methods) {
        test(`${P}: a direct method answered by the device gives 200 with the handler's status and payload`, { timeout: T.test }, async () => {
            const { id, client } = await deviceFor(protocol, 'method');
            client.onDeviceMethod('echo', (req, res) => {
                res.send(201, { echoed: req.payload, method: req.methodName }, () => {});
            });
            const svc = serviceClient();
            const { result } = await invokeWhenOnline(svc, id, {
                methodName: 'echo',
                payload: { n: 7, s: 'x y' },
                responseTimeoutInSeconds: 10,
            });
            assert.equal(result.status, 201, "the device handler's status");
            assert.deepEqual(result.payload, { echoed: { n: 7, s: 'x y' }, method: 'echo' }, "the device handler's payload");
        });

        test(`${P}: a direct method the device never answers gives 504 after responseTimeoutInSeconds 5`,
            { timeout: T.test }, async () => {
                const { id, client } = await deviceFor(protocol, 'silent');
                client.onDeviceMethod('silent', () => { /* never answers */ });
                const svc = serviceClient();
                const t0 = Date.now();
                await assert.rejects(invokeWhenOnline(svc, id, { methodName: 'silent', responseTimeoutInSeconds: 5 }), (e) => {
                    assert.equal(e.response && e.response.statusCode, 504, `HTTP status (got ${e.name}: ${e.message})`);
                    assert.equal(e.name, 'GatewayTimeoutError');
                    return true;
                });
                const waited = Date.now() - t0;
                assert.ok(waited >= 4500 && waited < 15000, `the hub waited the response timeout (${waited} ms)`);
            });
    }

    if (twin) {
        test(`${P}: twin get, reported patch seen by the service, desired update pushed to the device`, { timeout: T.test }, async () => {
            const { id, client } = await deviceFor(protocol, 'twin');
            const twinDev = await within(T.step, client.getTwin(), 'device getTwin');
            assert.ok(twinDev.properties && typeof twinDev.properties.desired === 'object', 'twin has desired properties');

            await within(T.step, new Promise((resolve, reject) => {
                twinDev.properties.reported.update({ firmware: '1.2.3', nested: { ok: true } }, (e) => (e ? reject(e) : resolve()));
            }), 'reported patch');

            const reg = registry();
            const { responseBody: twin1 } = await within(T.step, reg.getTwin(id), 'service getTwin');
            assert.equal(twin1.properties.reported.firmware, '1.2.3', 'reported firmware visible to the service');
            assert.deepEqual(twin1.properties.reported.nested, { ok: true }, 'reported nested object');
            const reportedVersion = twin1.properties.reported.$version;
            assert.equal(typeof reportedVersion, 'number', 'reported $version');

            // A second patch merges: nested objects merge, null deletes, $version grows by one.
            await within(T.step, new Promise((resolve, reject) => {
                twinDev.properties.reported.update({ nested: { more: 1 }, firmware: null }, (e) => (e ? reject(e) : resolve()));
            }), 'second reported patch');
            const { responseBody: twinSvc } = await within(T.step, reg.getTwin(id), 'service getTwin again');
            assert.deepEqual(twinSvc.properties.reported.nested, { ok: true, more: 1 }, 'nested objects merge');
            assert.ok(!('firmware' in twinSvc.properties.reported), 'a null member is deleted');
            assert.equal(twinSvc.properties.reported.$version, reportedVersion + 1, 'reported $version grows by one per patch');
            const desiredVersion = twinSvc.properties.desired.$version;

            const pushed = waitForEvent(twinDev, 'properties.desired',
                (d) => (d && d.interval === 42 ? d : undefined), T.step, 'desired push at the device');
            // Wait until the desired-update subscription is in place (the listener enables it asynchronously).
            await within(T.step, new Promise((resolve, reject) => {
                twinDev.enableTwinDesiredPropertiesUpdates((e) => (e ? reject(e) : resolve()));
            }), 'enable desired updates');
            await within(T.step, twinSvc.update({ properties: { desired: { interval: 42 } } }), 'service desired update');
            const d = await pushed;
            assert.equal(d.interval, 42, 'desired value pushed');
            assert.equal(d.$version, desiredVersion + 1, 'the push carries the new desired $version');
        });
    }

    if (reject) {
        test(`${P}: a C2D message the device rejects is dead-lettered with Rejected feedback`, { timeout: T.feedback + T.test }, async () => {
            const { id, client } = await deviceFor(protocol, 'reject');
            const svc = await openService();
            const { result: receiver } = await within(T.step, svc.getFeedbackReceiver(), 'feedback receiver');
            const messageId = `${protocol}-reject-1`;
            client.on('message', () => {});
            const arrived = waitForEvent(client, 'message', (m) => (m.messageId === messageId ? m : undefined), T.step + 5000,
                `C2D ${messageId} at the device`);
            const out = new iothubMessage('reject me');
            out.messageId = messageId;
            out.ack = 'full';
            await within(T.step, svc.send(id, out), 'service send C2D');
            await within(T.step, client.reject(await arrived), 'reject');
            const [rec] = await waitForFeedback(receiver, messageId);
            assert.equal(rec.statusCode, 'Rejected', 'a rejected message gives Rejected feedback');
        });
    }

    if (protocol === 'http') {
        test(`${P}: a property value outside the allowed characters is refused with 400`, { timeout: T.test }, async () => {
            const { client } = await deviceFor(protocol, 'charset');
            const msg = new device.Message('x');
            msg.properties.add('bad', 'has space');
            await assert.rejects(within(T.step, client.sendEvent(msg), 'sendEvent'), (e) => {
                assert.equal(e.response && e.response.statusCode, 400, `${e.name}: ${e.message}`);
                return true;
            });
        });
    }

    test(`${P}: a device with a wrong key is refused as unauthorized`, { timeout: T.test }, async () => {
        const id = `sdk-${protocol}-badkey`;
        await createDevice(id);
        const wrongKey = Buffer.alloc(32, 7).toString('base64');
        const client = device.Client.fromConnectionString(deviceConnectionString(id, wrongKey), PROTOCOLS[protocol]);
        open.push(client);
        const options = protocol === 'http' ? { ca: caPem, http: { receivePolicy: { interval: 1 } } } : { ca: caPem };
        await within(T.step, client.setOptions(options), 'setOptions');
        // HTTP has no connection: the refusal shows on the first request.
        const attempt = protocol === 'http'
            ? client.open().then(() => client.sendEvent(new device.Message('x')))
            : client.open();
        await assert.rejects(within(T.step, attempt, 'open with a wrong key'), (e) => {
            const text = `${e.name}: ${e.message}`;
            if (protocol === 'mqtt') {
                // The SDK words every first-connection failure "Failure on first connection (Not authorized)", even a
                // refused TCP connection, and then names it UnauthorizedError: look at what mqtt.js itself said (CONNACK 4 or 5).
                const inner = e.message.replace('Failure on first connection (Not authorized)', '');
                assert.match(inner, /Connection refused: (Not authorized|Bad username or password)/, `refused by CONNACK (got ${text})`);
            } else if (protocol === 'http') {
                assert.equal(e.response && e.response.statusCode, 401, `HTTP 401 (got ${text})`);
            } else {
                assert.equal(e.name, 'UnauthorizedError', `CBS put-token refused (got ${text})`);
            }
            return true;
        });
    });
}
