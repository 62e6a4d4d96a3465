// The service SDK's twin queries against hubsim serve: POST /devices/query pages with continuation tokens, item types, COUNT(), a bad query refused with 400 (issue 10).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { T, within, createDevice, registry, closeQuietly } from './lib/hub.mjs';

after(() => { setTimeout(() => process.exit(process.exitCode ?? 0), 2000).unref(); });

test('createQuery pages with continuation tokens; nextAsTwin; raw count', { timeout: 60000 }, async () => {
    const reg = registry();
    for (let i = 0; i < 7; i++) await createDevice(`tq-${i}`);
    for (let i = 0; i < 7; i++) {
        const { responseBody: twin } = await reg.getTwin(`tq-${i}`);
        await twin.update({ tags: { shard: i % 2 } });
    }
    const q = reg.createQuery("SELECT * FROM devices WHERE STARTS_WITH(deviceId, 'tq-')", 3);
    const seen = [];
    let pages = 0;
    while (q.hasMoreResults) {
        const r = await q.nextAsTwin();
        pages++;
        for (const t of r.result) seen.push(t.deviceId);
        assert.equal((r.message ?? r.response).headers['x-ms-item-type'], 'twin');
        if (pages > 10) break;
    }
    assert.equal(pages, 3);
    assert.deepEqual(seen, ['tq-0','tq-1','tq-2','tq-3','tq-4','tq-5','tq-6']);
    const c = reg.createQuery("SELECT COUNT() AS n FROM devices WHERE tags.shard = 1");
    const r = await c.next();
    assert.deepEqual(r.result, [{ n: 3 }]);
    assert.equal(c.hasMoreResults, false);
    await assert.rejects(reg.createQuery("SELECT * FROM devices WHERE a ==").next(), (e) => {
        assert.equal(e.response.statusCode, 400, e.message);
        return true;
    });
});
