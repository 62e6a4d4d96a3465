// The service SDK's JobClient against hubsim serve: scheduleDeviceMethod over an online and an offline device, scheduleTwinUpdate in the future then cancelJob, createQuery by type (issue 10, docs/jobs.md).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { T, iothub, env, within, sleep, createDevice, openDevice, serviceClient, invokeWhenOnline, closeQuietly } from './lib/hub.mjs';

after(() => { setTimeout(() => process.exit(process.exitCode ?? 0), 2000).unref(); });

function jobClient() {
    return iothub.JobClient.fromConnectionString(env.serviceConnectionString);
}

async function waitForStatus(jobs, jobId, wanted, ms) {
    const deadline = Date.now() + ms;
    for (;;) {
        const { jobStatus } = await within(T.step, jobs.getJob(jobId), `getJob ${jobId}`);
        if (wanted.includes(jobStatus.status)) return jobStatus;
        if (Date.now() > deadline) assert.fail(`job ${jobId} is ${jobStatus.status}, wanted ${wanted}`);
        await sleep(200);
    }
}

test('scheduleDeviceMethod: one device answers, one is offline (404)', { timeout: T.slowTest }, async () => {
    const onKey = await createDevice('jb-on');
    await createDevice('jb-off');
    const client = await openDevice('mqtt', 'jb-on', onKey);
    try {
        client.onDeviceMethod('probe', (req, res) => res.send(200, {}, () => {}));
        client.onDeviceMethod('reboot', (req, res) => res.send(201, { got: req.payload }, () => {}));
        await invokeWhenOnline(serviceClient(), 'jb-on', { methodName: 'probe', responseTimeoutInSeconds: 5 });
        const jobs = jobClient();
        const jobId = `jb-m-${Date.now()}`;
        const created = await within(T.step, jobs.scheduleDeviceMethod(jobId, "deviceId IN ['jb-on', 'jb-off']",
            { methodName: 'reboot', payload: { a: 1 }, responseTimeoutInSeconds: 5 }), 'scheduleDeviceMethod');
        const doc = created.jobStatus ?? created.job ?? created.result;
        assert.equal(doc.jobId, jobId);
        assert.equal(doc.type, 'scheduleDeviceMethod');
        assert.ok(['queued', 'running', 'completed'].includes(doc.status), doc.status);
        const done = await waitForStatus(jobs, jobId, ['completed', 'failed'], T.step);
        assert.equal(done.status, 'completed');
        assert.deepEqual(done.deviceJobStatistics,
            { deviceCount: 2, failedCount: 1, succeededCount: 1, runningCount: 0, pendingCount: 0 });
        const q = jobs.createQuery('scheduleDeviceMethod', 'completed');
        const page = await within(T.step, q.next(), 'job query');
        assert.ok(page.result.some((j) => j.jobId === jobId), JSON.stringify(page.result));
    } finally {
        await closeQuietly(client);
    }
});

test('scheduleTwinUpdate in the future, then cancelJob', { timeout: T.test }, async () => {
    await createDevice('jb-twin');
    const jobs = jobClient();
    const jobId = `jb-t-${Date.now()}`;
    const start = new Date(Date.now() + 3600_000);
    const created = await within(T.step, jobs.scheduleTwinUpdate(jobId, "deviceId = 'jb-twin'",
        { etag: '*', tags: { fw: '2.0' } }, start, 600), 'scheduleTwinUpdate');
    const doc = created.jobStatus ?? created.job ?? created.result;
    assert.equal(doc.status, 'scheduled');
    const cancelled = await within(T.step, jobs.cancelJob(jobId), 'cancelJob');
    assert.equal((cancelled.jobStatus ?? cancelled.result).status, 'cancelled');
    await assert.rejects(jobs.getJob('jb-no-such-job'), (e) => {
        assert.equal(e.response.statusCode, 404, e.message);
        return true;
    });
});
