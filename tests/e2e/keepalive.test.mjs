// HTTP/1.1 connection handling: keep-alive reuse, pipelining in order, Connection: close,
// HTTP/1.0, chunked request bodies, streams and errors on a kept-alive connection.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { httpRequest, rawExchange, SLOW, sseData, startStack } from './lib/harness.mjs';

let s;
before(async () => {
  s = await startStack();
}, { timeout: 30000 * SLOW });
after(() => s?.stop(), { timeout: 30000 * SLOW });

const T = { timeout: 15000 * SLOW };
const chatBody = (extra = {}) =>
  JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], ...extra });

function rawPost(path, body, { auth = true, extraHeaders = '' } = {}) {
  return (
    `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
    (auth ? `Authorization: Bearer ${s.masterKey}\r\n` : '') +
    extraHeaders +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  );
}
const rawGet = (path, extraHeaders = '') =>
  `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${s.masterKey}\r\n${extraHeaders}\r\n`;

test('sequential requests on a keep-alive agent with one socket reuse one connection', T, async () => {
  const agent = s.agent({ maxSockets: 1 });
  const sockets = new Set();
  const reqs = [
    () => s.request('/health/liveliness', { agent }),
    () => s.post('/v1/chat/completions', chatBody(), { agent }),
    () => s.request('/v1/models', { agent }),
    () => s.post('/v1/chat/completions', chatBody({ stream: true }), { agent }),
    () => s.post('/v1/embeddings', { model: 'text-embedding-3-small', input: 'a' }, { agent }),
    () => s.post('/v1/chat/completions', chatBody(), { agent }),
  ];
  for (const [i, make] of reqs.entries()) {
    const r = await make();
    assert.equal(r.status, 200, `request ${i}: ${r.text}`);
    assert.notEqual((r.headers.connection || '').toLowerCase(), 'close', `request ${i} answered Connection: close`);
    sockets.add(r.socket);
    if (i > 0) assert.equal(r.reused, true, `request ${i} did not reuse the connection`);
  }
  assert.equal(sockets.size, 1);
});

test('pipelined requests on one socket are answered in order', T, async () => {
  const data =
    rawPost('/v1/chat/completions', chatBody({ mock: { 'latency-ms': 300, tokens: 2 } })) +
    rawGet('/health/liveliness') +
    rawPost('/v1/chat/completions', chatBody({ stream: true, mock: { tokens: 3 } })) +
    rawGet('/v1/models') +
    rawPost('/v1/embeddings', JSON.stringify({ model: 'text-embedding-3-small', input: 'p' }));
  const { responses } = await rawExchange(s.port, data, { count: 5 });
  assert.deepEqual(responses.map((r) => r.status), [200, 200, 200, 200, 200], JSON.stringify(responses.map((r) => r.body.slice(0, 200))));
  assert.equal(JSON.parse(responses[0].body).object, 'chat.completion');
  assert.equal(JSON.parse(responses[1].body), "I'm alive!");
  assert.equal(sseData(responses[2].body).at(-1), '[DONE]');
  assert.equal(JSON.parse(responses[3].body).object, 'list');
  assert.equal(JSON.parse(responses[4].body).data[0].object, 'embedding');
});

test('pipelined requests split at odd byte boundaries still parse', T, async () => {
  const { default: net } = await import('node:net');
  const data = Buffer.from(rawGet('/health/liveliness') + rawPost('/v1/chat/completions', chatBody()) + rawGet('/health/liveness'));
  const responses = await new Promise((resolve, reject) => {
    const sock = net.connect({ port: s.port, host: '127.0.0.1' });
    let buf = '';
    const t = setTimeout(() => reject(new Error(`timeout; got ${JSON.stringify(buf.slice(0, 400))}`)), 10000 * SLOW);
    sock.on('connect', async () => {
      sock.setNoDelay(true);
      // 7-byte pieces, a tick apart
      for (let i = 0; i < data.length; i += 7) {
        sock.write(data.subarray(i, i + 7));
        await new Promise((r) => setImmediate(r));
      }
    });
    sock.on('data', (d) => {
      buf += d.toString('latin1');
      const n = (buf.match(/HTTP\/1\.1 \d{3}/g) || []).length;
      if (n === 3 && buf.trimEnd().endsWith('"I\'m alive!"')) {
        clearTimeout(t);
        sock.destroy();
        resolve(buf);
      }
    });
    sock.on('error', reject);
  });
  assert.equal((responses.match(/HTTP\/1\.1 200/g) || []).length, 3, responses.slice(0, 500));
});

test('an error response keeps the connection usable', T, async () => {
  const data =
    rawPost('/v1/chat/completions', chatBody(), { auth: false }) +
    rawPost('/v1/chat/completions', chatBody({ model: 'no-such-model' })) +
    rawGet('/no/such/route') +
    rawGet('/health/liveliness');
  const { responses } = await rawExchange(s.port, data, { count: 4 });
  assert.deepEqual(responses.map((r) => r.status), [401, 400, 404, 200]);
});

test('Connection: close is honoured: answered, then the server closes', T, async () => {
  const { responses, closed } = await rawExchange(s.port, rawGet('/health/liveliness', 'Connection: close\r\n'), {
    count: 1,
    waitClose: true,
  });
  assert.equal(responses[0].status, 200);
  assert.equal(closed, true);
});

test('HTTP/1.0 without keep-alive: answered, then closed', T, async () => {
  const req = `GET /health/liveliness HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n`;
  const { responses, closed } = await rawExchange(s.port, req, { count: 1, waitClose: true });
  assert.equal(responses[0].status, 200);
  assert.equal(JSON.parse(responses[0].body), "I'm alive!");
  assert.equal(closed, true);
});

test('a chunked request body is accepted', T, async () => {
  const body = chatBody({ mock: { id: 'chunked-body' } });
  const mid = Math.floor(body.length / 2);
  const chunk = (p) => `${Buffer.byteLength(p).toString(16)}\r\n${p}\r\n`;
  const req =
    `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${s.masterKey}\r\n` +
    `Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n` +
    chunk(body.slice(0, mid)) + chunk(body.slice(mid)) + '0\r\n\r\n' +
    rawGet('/health/liveliness');
  const { responses } = await rawExchange(s.port, req, { count: 2 });
  assert.equal(responses[0].status, 200, responses[0].body);
  assert.equal(JSON.parse(responses[0].body).object, 'chat.completion');
  assert.equal(responses[1].status, 200);
  assert.equal((await s.mockStats()).by_id['chunked-body'].requests, 1);
});

test('Expect: 100-continue gets an interim 100 then the answer', T, async () => {
  const body = chatBody();
  const r = await new Promise((resolve, reject) => {
    import('node:http').then(({ default: http }) => {
      let got100 = false;
      const req = http.request(`${s.url}/v1/chat/completions`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${s.masterKey}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          expect: '100-continue',
        },
      });
      req.on('continue', () => {
        got100 = true;
        req.end(body);
      });
      req.on('response', (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode, text, got100 }));
      });
      req.on('error', reject);
      req.setTimeout(10000 * SLOW, () => req.destroy(new Error('timeout')));
    }, reject);
  });
  assert.equal(r.got100, true);
  assert.equal(r.status, 200, r.text);
});

test('many concurrent keep-alive connections', T, async () => {
  const agent = s.agent({ maxSockets: 16 });
  const rs = await Promise.all(
    Array.from({ length: 64 }, (_, i) =>
      i % 2 ? s.request('/health/liveliness', { agent }) : s.post('/v1/chat/completions', chatBody(), { agent }),
    ),
  );
  assert.ok(rs.every((r) => r.status === 200), rs.map((r) => r.status).join(','));
});

test('fresh connections one after another (no agent) work', T, async () => {
  for (let i = 0; i < 10; i++) {
    const r = await httpRequest(`${s.url}/health/liveness`);
    assert.equal(r.status, 200);
  }
});
