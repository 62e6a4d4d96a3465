// Back ends read device-to-cloud messages from the served hub's Event Hubs-compatible endpoint with the official @azure/event-hubs EventHubConsumerClient.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { device, T, within, createDevice, openDevice, closeQuietly, sleep } from './lib/hub.mjs';

const require = createRequire(import.meta.url);
const { EventHubConsumerClient, earliestEventPosition } = require('@azure/event-hubs');

// The connection string exactly as `hubsim serve` prints it in its banner (run.sh keeps the log in HUBSIM_SDK_OUT).
function eventHubsConnectionString() {
    const out = process.env.HUBSIM_SDK_OUT;
    assert.ok(out, 'HUBSIM_SDK_OUT is set: run through tests/interop/sdk/run.sh');
    const log = readFileSync(`${out}/serve.log`, 'utf8');
    const m = /^eventhubs-connection-string: (.+)$/m.exec(log);
    assert.ok(m, `the banner has an eventhubs-connection-string line:\n${log}`);
    return m[1];
}

const open = [];
after(async () => {
    for (const c of open.reverse()) {
        try {
            await within(T.step, c.close(), 'close');
        } catch {
            // best effort
        }
    }
    setTimeout(() => process.exit(process.exitCode ?? 0), 5000).unref();
});

// Subscribes from the earliest position on every partition and collects the events of one device until `want`
// arrived, then waits `settleMs` more so that a duplicate or a stray event would be seen too.
async function readDeviceEvents(client, deviceId, want, settleMs = 1500) {
    const got = [];
    const errors = [];
    let done;
    const enough = new Promise((r) => (done = r));
    const sub = client.subscribe(
        {
            processEvents: async (events, ctx) => {
                for (const e of events) {
                    if (e.systemProperties && e.systemProperties['iothub-connection-device-id'] === deviceId) {
                        got.push({ event: e, partitionId: ctx.partitionId, consumerGroup: ctx.consumerGroup });
                    }
                }
                if (got.length >= want) done();
            },
            processError: async (err, ctx) => {
                errors.push(`${ctx.partitionId}: ${err && err.message}`);
            },
        },
        { startPosition: earliestEventPosition, maxWaitTimeInSeconds: 1, maxBatchSize: 50 },
    );
    try {
        await within(T.slowTest, enough, `${want} events of ${deviceId} (errors: ${errors.join('; ')})`);
        await sleep(settleMs);
    } finally {
        await within(T.step, sub.close(), 'subscription close');
    }
    assert.deepEqual(errors, [], 'the subscription reports no error');
    return got;
}

test('Event Hubs: EventHubConsumerClient reads what an MQTT device sent, with properties and the hub stamps', { timeout: 3 * T.slowTest }, async () => {
    const cs = eventHubsConnectionString();
    assert.match(cs, /^Endpoint=sb:\/\/[^/;]+\/;SharedAccessKeyName=[^;]+;SharedAccessKey=[^;]+;EntityPath=[^;]+$/,
        'the documented Event Hubs connection string form');
    const entity = /EntityPath=([^;]+)/.exec(cs)[1];

    const id = 'sdk-eventhubs-device';
    const key = await createDevice(id);
    const dev = await openDevice('mqtt', id, key);
    open.push({ close: () => closeQuietly(dev) });
    const sent = [];
    for (let i = 1; i <= 3; i++) {
        const body = { n: i, reading: 20 + i };
        const msg = new device.Message(JSON.stringify(body));
        msg.messageId = `eh-${i}`;
        msg.contentType = 'application/json';
        msg.contentEncoding = 'utf-8';
        msg.properties.add('kind', 'eh-test');
        msg.properties.add('index', String(i));
        await within(T.step, dev.sendEvent(msg), `sendEvent ${i}`);
        sent.push(body);
    }

    const client = new EventHubConsumerClient('$Default', cs);
    open.push(client);

    // $management: com.microsoft:eventhub READ
    const ids = await within(T.step, client.getPartitionIds(), 'getPartitionIds');
    assert.deepEqual(ids, ['0', '1', '2', '3'], 'four partitions by default');
    const hubProps = await within(T.step, client.getEventHubProperties(), 'getEventHubProperties');
    assert.equal(hubProps.name, entity, 'the Event Hub is named by EntityPath');
    assert.deepEqual(hubProps.partitionIds, ids);
    assert.ok(hubProps.createdOn instanceof Date && !Number.isNaN(hubProps.createdOn.getTime()), 'createdOn is a date');

    const got = await readDeviceEvents(client, id, 3);
    assert.equal(got.length, 3, `exactly the 3 events of ${id}, got ${got.length}`);
    const partitions = new Set(got.map((g) => g.partitionId));
    assert.equal(partitions.size, 1, 'one device, one partition');
    got.sort((a, b) => a.event.sequenceNumber - b.event.sequenceNumber);
    for (let i = 0; i < 3; i++) {
        const e = got[i].event;
        assert.deepEqual(e.body, sent[i], `event ${i + 1}: the body as sent (JSON)`);
        assert.deepEqual(e.properties, { kind: 'eh-test', index: String(i + 1) }, `event ${i + 1}: application properties, exactly`);
        assert.equal(e.systemProperties['iothub-connection-device-id'], id, 'the hub stamps the sending device');
        assert.ok(e.systemProperties['iothub-enqueuedtime'] !== undefined, 'iothub-enqueuedtime is there');
        assert.equal(e.systemProperties.messageId, `eh-${i + 1}`, 'message id as a system property');
        assert.equal(e.contentType, 'application/json', 'content type');
        assert.equal(typeof e.sequenceNumber, 'number', 'x-opt-sequence-number');
        assert.equal(String(e.offset), String(e.sequenceNumber), 'the offset is the sequence number (hubsim)');
        assert.ok(e.enqueuedTimeUtc instanceof Date && Math.abs(e.enqueuedTimeUtc.getTime() - Date.now()) < 120_000,
            'x-opt-enqueued-time is a recent date');
        assert.equal(got[i].consumerGroup, '$Default');
    }
    assert.ok(got[0].event.sequenceNumber < got[1].event.sequenceNumber && got[1].event.sequenceNumber < got[2].event.sequenceNumber,
        'sequence numbers grow in sending order');

    // $management: com.microsoft:partition READ
    const pid = got[0].partitionId;
    const pp = await within(T.step, client.getPartitionProperties(pid), 'getPartitionProperties');
    assert.equal(pp.partitionId, pid);
    assert.equal(pp.eventHubName, entity);
    assert.equal(pp.isEmpty, false, 'the partition holds our events');
    assert.ok(pp.beginningSequenceNumber <= got[0].event.sequenceNumber, 'begin sequence number at or before our first event');
    assert.ok(pp.lastEnqueuedSequenceNumber >= got[2].event.sequenceNumber, 'last sequence number at or after our last event');
    assert.ok(pp.lastEnqueuedOnUtc instanceof Date && pp.lastEnqueuedOnUtc.getTime() >= got[2].event.enqueuedTimeUtc.getTime(),
        'last enqueued time at or after our last event');

    // A second consumer group reads the same log independently: the same 3 events, the same sequence numbers.
    const other = new EventHubConsumerClient('hubsim-eh-second', cs);
    open.push(other);
    const again = await readDeviceEvents(other, id, 3);
    assert.equal(again.length, 3, 'the second consumer group sees the same 3 events');
    assert.deepEqual(again.map((g) => g.event.sequenceNumber).sort((a, b) => a - b), got.map((g) => g.event.sequenceNumber));
    assert.ok(again.every((g) => g.consumerGroup === 'hubsim-eh-second'));

    // ... and the first group, reading again from the earliest position, still gets all 3 (nothing was consumed).
    const third = await readDeviceEvents(client, id, 3, 500);
    assert.equal(third.length, 3, 'reading does not consume');
});
