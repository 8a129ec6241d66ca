// SIGTERM: sluice stops accepting, finishes what is in flight (up to --drain_timeout), exits 0.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connectRefused, httpRequest, SLOW, waitFor, withStack } from './lib/harness.mjs';

const messages = [{ role: 'user', content: 'drain' }];

test('in-flight streaming and JSON requests complete after SIGTERM; new connections are refused; exit 0',
  { timeout: 60000 * SLOW }, async () => {
    await withStack({ sluiceArgs: ['--drain_timeout', '20'] }, async (s) => {
      const client = s.openai();
      const tokens = 8;
      const streams = [0, 1, 2].map(async (i) => {
        const stream = await client.chat.completions.create({
          model: 'gpt-4o-mini',
          messages,
          stream: true,
          stream_options: { include_usage: true },
          mock: { id: `drain-s${i}`, tokens, 'ttft-ms': 300, 'chunk-delay-ms': 150 },
        });
        const chunks = [];
        for await (const c of stream) chunks.push(c);
        return chunks;
      });
      const jsons = [0, 1, 2].map((i) =>
        client.chat.completions.create({ model: 'gpt-4o', messages, mock: { id: `drain-j${i}`, 'latency-ms': 1500, tokens } }),
      );
      let settled = 0;
      const all = Promise.allSettled([...streams, ...jsons]).finally(() => (settled = 1));
      // every request reached the provider
      await waitFor(async () => {
        const st = await s.mockStats();
        return ['s0', 's1', 's2', 'j0', 'j1', 'j2'].every((k) => st.by_id[`drain-${k}`]?.requests === 1);
      }, { timeout: 5000 * SLOW, what: 'all six requests to reach the mock' });

      const t0 = Date.now();
      s.sluice.kill('SIGTERM');
      // the listener goes away at once, while the requests are still running
      await waitFor(() => connectRefused(s.port), { timeout: 1000 * SLOW, what: 'new connections to be refused' });
      assert.equal(settled, 0, 'requests finished before the listener closed: the test proves nothing');

      const results = await all;
      for (const [i, r] of results.entries()) assert.equal(r.status, 'fulfilled', `request ${i}: ${r.reason}`);
      for (const { value: chunks } of results.slice(0, 3)) {
        const content = chunks.filter((c) => c.choices[0]?.delta?.content);
        assert.equal(content.length, tokens);
        assert.equal(chunks.filter((c) => c.choices[0]?.finish_reason).at(-1).choices[0].finish_reason, 'stop');
        assert.equal(chunks.at(-1).usage?.completion_tokens, tokens);
      }
      for (const { value: r } of results.slice(3)) assert.equal(r.usage.completion_tokens, tokens);

      const exit = await s.sluice.waitExit(25000 * SLOW);
      assert.deepEqual(exit, { code: 0, signal: null });
      assert.ok(Date.now() - t0 < 15000 * SLOW, `took ${Date.now() - t0} ms to exit`);
      assert.equal(await connectRefused(s.port), true);
      const st = await s.mockStats();
      assert.equal(st.streams_aborted, 0);
    });
  });

test('an idle keep-alive connection does not hold up shutdown', { timeout: 30000 * SLOW }, async () => {
  await withStack({ sluiceArgs: ['--drain_timeout', '20'] }, async (s) => {
    const agent = s.agent({ maxSockets: 1 });
    const r = await s.request('/health/liveliness', { agent });
    assert.equal(r.status, 200);
    const closed = new Promise((resolve) => r.socket.once('close', resolve));
    const t0 = Date.now();
    s.sluice.kill('SIGTERM');
    const exit = await s.sluice.waitExit(20000 * SLOW);
    assert.equal(exit.code, 0);
    const took = Date.now() - t0;
    assert.ok(took < 3000 * SLOW, `exit took ${took} ms with only an idle connection open`);
    await closed; // the server closed the idle connection
  });
});

test('--drain_timeout bounds the wait: a request longer than it is cut, exit is still 0', { timeout: 30000 * SLOW }, async () => {
  await withStack({ sluiceArgs: ['--drain_timeout', '1'] }, async (s) => {
    const long = httpRequest(`${s.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.masterKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages, mock: { id: 'too-long', 'latency-ms': 15000 } }),
    }).then((r) => ({ ok: r.status === 200, status: r.status }), (e) => ({ ok: false, error: e.code || e.message }));
    await waitFor(async () => (await s.mockStats()).by_id['too-long']?.requests === 1, {
      timeout: 5000 * SLOW,
      what: 'the request to reach the mock',
    });
    const t0 = Date.now();
    s.sluice.kill('SIGTERM');
    const exit = await s.sluice.waitExit(10000 * SLOW);
    const took = Date.now() - t0;
    assert.equal(exit.code, 0);
    assert.ok(took >= 900, `exited after ${took} ms, before the drain timeout`);
    assert.ok(took < 4000 * SLOW, `exited after ${took} ms with --drain_timeout 1`);
    const r = await long;
    assert.equal(r.ok, false, 'the cut request cannot have succeeded');
  });
});
