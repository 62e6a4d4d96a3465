// Service SDK (azure-iothub) against the served hub: registry create/get/delete, method errors 404 (unknown, offline), wrong service key on REST and AMQP.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { iothub, env, T, within, createDevice, registry, serviceClient, closeQuietly } from './lib/hub.mjs';

const open = [];
after(async () => {
    for (const c of open.reverse()) await closeQuietly(c);
    setTimeout(() => process.exit(process.exitCode ?? 0), 5000).unref();
});

// The service connection string with its key replaced by a valid-looking wrong one.
function wrongServiceConnectionString() {
    return env.serviceConnectionString.replace(/SharedAccessKey=[^;]*/, `SharedAccessKey=${Buffer.alloc(32, 9).toString('base64')}`);
}

test('registry: create gives keys and an etag, a second create is 409, get returns the device, delete removes it (then 404 DeviceNotFound)', { timeout: T.test }, async () => {
    const id = 'sdk-service-registry';
    const key = await createDevice(id);
    const reg = registry();

    await assert.rejects(within(T.step, reg.create({ deviceId: id }), 'create again'), (e) => {
        assert.equal(e.name, 'DeviceAlreadyExistsError', `${e.name}: ${e.message}`);
        assert.equal(e.response.statusCode, 409);
        return true;
    });

    const { responseBody: got } = await within(T.step, reg.get(id), 'registry get');
    assert.equal(got.deviceId, id);
    assert.equal(got.authentication.symmetricKey.primaryKey, key, 'get returns the key create generated');
    assert.ok(got.etag, 'device has an etag');
    assert.ok(got.generationId, 'device has a generationId');
    assert.equal(got.status, 'enabled');

    await within(T.step, reg.delete(id), 'registry delete');
    await assert.rejects(within(T.step, reg.get(id), 'get after delete'), (e) => {
        assert.equal(e.name, 'DeviceNotFoundError', `${e.name}: ${e.message}`);
        assert.equal(e.response.statusCode, 404);
        return true;
    });
});

test('method on an unknown device: 404 DeviceNotFound', { timeout: T.test }, async () => {
    const svc = serviceClient();
    await assert.rejects(
        within(T.step, svc.invokeDeviceMethod('sdk-service-no-such-device', { methodName: 'm', responseTimeoutInSeconds: 5 }), 'invoke'),
        (e) => {
            assert.equal(e.name, 'DeviceNotFoundError', `${e.name}: ${e.message}; body ${e.responseBody}`);
            assert.equal(e.response.statusCode, 404);
            return true;
        },
    );
});

test('method on a registered device that never connected: 404 DeviceNotOnline, not DeviceNotFound', { timeout: T.test }, async () => {
    const id = 'sdk-service-offline';
    await createDevice(id);
    const svc = serviceClient();
    await assert.rejects(
        within(T.step, svc.invokeDeviceMethod(id, { methodName: 'm', responseTimeoutInSeconds: 5 }), 'invoke'),
        (e) => {
            assert.equal(e.response && e.response.statusCode, 404, `${e.name}: ${e.message}`);
            assert.notEqual(e.name, 'DeviceNotFoundError');
            assert.match(String(e.responseBody), /DeviceNotOnline/, 'the error body names DeviceNotOnline');
            return true;
        },
    );
});

test('service REST with a wrong key: 401 Unauthorized', { timeout: T.test }, async () => {
    const reg = iothub.Registry.fromConnectionString(wrongServiceConnectionString());
    await assert.rejects(within(T.step, reg.get('sdk-service-anything'), 'registry get'), (e) => {
        assert.equal(e.name, 'UnauthorizedError', `${e.name}: ${e.message}`);
        assert.equal(e.response.statusCode, 401);
        return true;
    });
});

test('service AMQP with a wrong key: CBS refuses, open fails as Unauthorized', { timeout: T.test }, async () => {
    const svc = iothub.Client.fromConnectionString(wrongServiceConnectionString());
    open.push(svc);
    await assert.rejects(within(T.step, svc.open(), 'service open'), (e) => {
        // The service transport wraps the CBS refusal: Error('AMQP Transport: Could not connect') whose amqpError is
        // the UnauthorizedError built from the put-token reply (a closed connection would be a NotConnectedError instead).
        const inner = e.amqpError;
        assert.equal(inner && inner.name, 'UnauthorizedError', `CBS put-token refused (got ${e.name}: ${e.message}; inner ${inner && inner.name})`);
        return true;
    });
});
