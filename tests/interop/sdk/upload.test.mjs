// Device file uploads against the served hub: the device SDK's uploadToBlob (hub REST + @azure/storage-blob blocks to serve's blob endpoint), a Put Blob with the SAS the device asked for, bytes read back, and the service's file notification receiver.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import { T, within, createDevice, openDevice, closeQuietly, serviceClient } from './lib/hub.mjs';

const require = createRequire(import.meta.url);
// The storage SDK the device SDK itself depends on (azure-iot-device -> @azure/storage-blob).
const storage = require('@azure/storage-blob');

const open = [];
after(async () => {
    for (const c of open.reverse()) await closeQuietly(c);
    setTimeout(() => process.exit(process.exitCode ?? 0), 5000).unref();
});

// Deterministic bytes, different per size.
function pattern(n) {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = (i * 31 + (n % 251)) & 0xff;
    return b;
}

// GET the blob back from serve's blob endpoint with the SAS the hub handed out.
async function readBack(url) {
    const res = await within(T.step, fetch(url), `get ${url}`);
    assert.equal(res.status, 200, `Get Blob ${url}: ${res.status}`);
    return Buffer.from(await res.arrayBuffer());
}

// Resolves with the notification for blobName from a service file notification receiver.
async function notificationFor(receiver, blobName, ms) {
    return within(
        ms,
        new Promise((resolve) => {
            const on = (msg) => {
                let body;
                try {
                    body = JSON.parse(Buffer.from(msg.getData()).toString('utf8'));
                } catch {
                    return;
                }
                if (body.blobName !== blobName) return;
                receiver.complete(msg, () => {});
                receiver.removeListener('message', on);
                resolve([body, msg]);
            };
            receiver.on('message', on);
        }),
        `file notification for ${blobName}`,
    );
}

test('uploadToBlob: a small and a 5 MiB blob (two 4 MiB-buffer blocks + block list) land byte-exact, each with a file notification', { timeout: 90_000 }, async () => {
    const id = 'sdk-upload-device';
    const key = await createDevice(id);
    const svc = serviceClient();
    open.push(svc);
    await within(T.step, svc.open(), 'service open');
    const { result: receiver } = await within(T.step, svc.getFileNotificationReceiver(), 'file notification receiver');
    const client = await openDevice('mqtt', id, key);
    open.push(client);

    for (const [name, size] of [['small/hello.txt', 1000], ['large/big.bin', 5 * 1024 * 1024 + 17]]) {
        const data = pattern(size);
        const waiting = notificationFor(receiver, `${id}/${name}`, 30_000);
        await within(60_000, client.uploadToBlob(name, Readable.from([data]), data.length), `uploadToBlob ${name}`);
        const [note, msg] = await waiting;
        assert.equal(note.deviceId, id);
        assert.equal(note.blobName, `${id}/${name}`);
        assert.equal(note.blobSizeInBytes, size, 'blobSizeInBytes is what was uploaded');
        assert.match(note.blobUri, new RegExp(`^https://localhost/hubsim-files/${id}/`));
        assert.ok(!Number.isNaN(Date.parse(note.lastUpdatedTime)), `lastUpdatedTime ${note.lastUpdatedTime}`);
        assert.ok(!Number.isNaN(Date.parse(note.enqueuedTimeUtc)), `enqueuedTimeUtc ${note.enqueuedTimeUtc}`);
        assert.equal(msg.contentType, 'application/vnd.microsoft.iothub.filenotification.json');
        // the bytes on the server: read back with a SAS for that blob
        const sas = await within(T.step, client.getBlobSharedAccessSignature(name), 'sas for read back');
        const back = await readBack(`https://${sas.hostName}/${sas.containerName}/${sas.blobName}${sas.sasToken}`);
        assert.equal(back.length, size);
        assert.ok(back.equals(data), `blob ${name} is byte-exact`);
        await within(T.step, client.notifyBlobUploadStatus(sas.correlationId, false, 400, 'read back only'), 'release the read-back upload');
    }
});

test('getBlobSharedAccessSignature + Put Blob (storage SDK upload) + notifyBlobUploadStatus: 201, bytes back, 204; a second notification for the same id is 400; a forged sig is 403', { timeout: T.slowTest }, async () => {
    const id = 'sdk-upload-putblob';
    const key = await createDevice(id);
    const client = await openDevice('amqp', id, key);
    open.push(client);
    const sas = await within(T.step, client.getBlobSharedAccessSignature('direct.json'), 'get sas');
    assert.equal(sas.blobName, `${id}/direct.json`);
    assert.equal(sas.containerName, 'hubsim-files');
    assert.ok(sas.correlationId, 'a correlation id');
    assert.match(sas.sasToken, /^\?sv=.*&sig=/);
    const url = `https://${sas.hostName}/${sas.containerName}/${sas.blobName}${sas.sasToken}`;
    const blob = new storage.BlockBlobClient(url, storage.newPipeline(new storage.AnonymousCredential(), { retryOptions: { maxTries: 1 } }));
    const body = Buffer.from('{"direct":true}');
    const put = await within(T.step, blob.upload(body, body.length), 'Put Blob');
    assert.equal(put._response.status, 201);
    assert.ok(put.etag, 'Put Blob answers an ETag');
    assert.ok((await readBack(url)).equals(body));
    await within(T.step, client.notifyBlobUploadStatus(sas.correlationId, true, 201, 'ok'), 'notify');
    await assert.rejects(
        within(T.step, client.notifyBlobUploadStatus(sas.correlationId, true, 201, 'again'), 'notify again'),
        (e) => {
            // the SDK's notify error carries only the status text
            assert.equal(e.message, 'Bad Request', `${e.name}: ${e.message}`);
            return true;
        },
    );
    // a forged signature is refused by the blob endpoint
    const forged = url.replace(/sig=([0-9a-f])/, (_, c) => `sig=${c === '0' ? '1' : '0'}`);
    const res = await within(T.step, fetch(forged, { method: 'PUT', headers: { 'x-ms-blob-type': 'BlockBlob' }, body: 'x' }), 'forged put');
    assert.equal(res.status, 403);
    assert.equal(res.headers.get('x-ms-error-code'), 'AuthenticationFailed');
});
