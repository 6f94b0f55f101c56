// Fault injection for the demo platforms: what networks and platforms do to streams, on
// demand, per job or for all, so the dashboard's recovery can be tested against the real thing.
import { readJsonBody, sendJson } from './http.js';

export const FAULT_KINDS = [
  'close-after', // end the stream cleanly after N events (`events`)
  'reset', // destroy the TCP connection as soon as the request arrives
  'stall', // answer, then send nothing at all (not even heartbeats)
  'status', // answer `status` instead of streaming (5xx, 429 with `retry_after`, 401, 204)
  'html', // answer 200 text/html, as a captive portal or proxy login page does
  'malformed', // send one broken JSON event first
  'duplicate', // send every event twice
  'out-of-order', // swap every two consecutive events
  'drip', // send the bytes one at a time, `delay_ms` apart
  'split', // send every event in small pieces, cutting through multi-byte characters
  'ws-close', // close the WebSocket with `code` after `events` messages (default 0)
  'restart', // drop every connection, refuse streams for `down_ms`, and lose what happened meanwhile from the replay buffers
  'oversize', // send one event of `size_kb` KB (default 300) first
  'flood', // after the second event, `rate` more per second (default 50,000) for `seconds` (default 10): copies of that event without ids, each with its own message
  'bad-numbers', // before every progress message, a broken copy: progress null, negative, over the scale or a string, the step going backwards, no steps, an unknown status, no task id
  'hostile', // put markup, script, javascript: URLs, bidi and zero-width characters, lone surrogates and 10,000-character names in every free-text field
];

/** What a platform that was broken into, or a model asked nicely, might put in a text field. */
export const HOSTILE_STRINGS = [
  '<img src=x onerror="window.__genwatchPwned=1">',
  '<script>window.__genwatchPwned=1</script>',
  'javascript:window.__genwatchPwned=1',
  'invoice\u202Etxt.exe',
  'zero\u200Bwidth\u200Djoiner\uFEFF',
  'lone \uD800 surrogate',
  `${'N'.repeat(10_000)}`,
];
// fields the platforms' own protocol needs as they are: ids, types, status words and times
const PROTOCOL_FIELDS = new Set([
  'generation_id',
  'task_id',
  'projectId',
  'type',
  'status',
  'timestamp',
  'step',
  'generation_mode',
  'ab_group',
  'warning_type',
]);

/** Every free-text field of an SSE frame's JSON replaced by a hostile string (the frame stays valid SSE). */
export function hostileFrame(frame, counter) {
  return frame.replace(/^data: (.*)$/m, (line, json) => {
    let value;
    try {
      value = JSON.parse(json);
    } catch {
      return line;
    }
    const visit = (node, key) => {
      if (typeof node === 'string') return PROTOCOL_FIELDS.has(key) ? node : HOSTILE_STRINGS[counter.next++ % HOSTILE_STRINGS.length];
      if (Array.isArray(node)) return node.map((item) => visit(item, key));
      if (node && typeof node === 'object') return Object.fromEntries(Object.entries(node).map(([name, item]) => [name, visit(item, name)]));
      return node;
    };
    return `data: ${JSON.stringify(visit(value, ''))}`;
  });
}

/** The faults waiting for streams of a platform. */
export function createFaultBook() {
  let faults = [];
  return {
    add(spec) {
      if (!FAULT_KINDS.includes(spec.kind)) throw Object.assign(new Error(`unknown fault kind: ${spec.kind}`), { status: 400 });
      const fault = { job: '*', times: Number.POSITIVE_INFINITY, ...spec };
      faults.push(fault);
      return fault;
    },
    clear() {
      faults = [];
    },
    list() {
      return faults.map((fault) => ({ ...fault, times: Number.isFinite(fault.times) ? fault.times : 'always' }));
    },
    /** The fault for a new connection of this job, if any; each use spends one of its `times`. */
    take(jobId) {
      const fault = faults.find((candidate) => candidate.kind !== 'restart' && (candidate.job === jobId || candidate.job === '*'));
      if (!fault) return undefined;
      if (--fault.times <= 0) faults = faults.filter((candidate) => candidate !== fault);
      return fault;
    },
  };
}

/** Parses start-up flags: `--fault 'codebegen:{"kind":"close-after","events":3}'`. */
export function parseFaultFlags(values = []) {
  const byPlatform = {};
  for (const value of values) {
    const at = value.indexOf(':');
    const platform = value.slice(0, at);
    const spec = JSON.parse(value.slice(at + 1));
    (byPlatform[platform] ??= []).push(spec);
  }
  return byPlatform;
}

/** GET lists, POST adds (or restarts at once), DELETE clears. Body fields as in FAULT_KINDS, plus `job` and `times`. */
export async function handleFaultAdmin(req, res, book, { restart } = {}) {
  if (req.method === 'DELETE') book.clear();
  if (req.method === 'POST') {
    const body = await readJsonBody(req);
    if (body.kind === 'restart') restart?.(body.down_ms ?? 0);
    else book.add(body);
  }
  return sendJson(res, 200, { faults: book.list() });
}

/** Answers a stream request whose fault replaces the stream. @returns true when it did. */
export function answerInstead(req, res, fault) {
  if (!fault) return false;
  if (fault.kind === 'reset') {
    req.socket.destroy();
    return true;
  }
  if (fault.kind === 'status') {
    const headers = { 'Content-Type': 'application/json' };
    if (fault.retry_after !== undefined) headers['Retry-After'] = String(fault.retry_after);
    res.writeHead(fault.status ?? 503, headers).end(fault.status === 204 ? undefined : JSON.stringify({ detail: `Injected ${fault.status ?? 503}` }));
    return true;
  }
  if (fault.kind === 'html') {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end('<!doctype html><title>Sign in</title><p>data: {"this": "is not an event"}</p>');
    return true;
  }
  return false;
}

/**
 * Writes SSE frames through a fault: `write(frame, { isEvent })` in order, whatever the
 * fault does to timing and bytes. Returns the writer the platform uses instead of `res`.
 */
export function faultyWriter(res, fault) {
  let events = 0;
  let held;
  let chain = Promise.resolve();
  let ended = false;
  const raw = (chunk) => {
    if (!res.destroyed && !res.writableEnded) res.write(chunk);
  };
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const bytesOut = async (text) => {
    const bytes = Buffer.from(text, 'utf8');
    if (fault?.kind === 'drip') {
      for (const byte of bytes) {
        raw(Buffer.from([byte]));
        await sleep(fault.delay_ms ?? 5);
      }
    } else if (fault?.kind === 'split') {
      // pieces of 1-3 bytes: every multi-byte character gets cut somewhere
      for (let at = 0; at < bytes.length;) {
        const size = 1 + ((at * 7) % 3);
        raw(bytes.subarray(at, at + size));
        at += size;
        await sleep(1);
      }
    } else {
      raw(text);
    }
  };
  const enqueue = (fn) => {
    chain = chain.then(fn).catch(() => {});
    return chain;
  };
  if (fault?.kind === 'malformed') enqueue(() => bytesOut('data: {"status": "processing", "progress": \n\n'));
  if (fault?.kind === 'oversize') enqueue(() => bytesOut(`data: {"padding": "${'x'.repeat((fault.size_kb ?? 300) * 1024)}"}\n\n`));
  const hostileCounter = { next: 0 };
  /** copies of the first event, as fast as the fault says, beside the job's own events */
  const flood = (frame) => {
    const json = /^data: (.*)$/m.exec(frame)?.[1];
    if (!json) return;
    const event = JSON.parse(json);
    const rate = fault.rate ?? 50_000;
    const total = rate * (fault.seconds ?? 10);
    const startedAt = Date.now();
    let sent = 0;
    const pump = setInterval(() => {
      if (res.destroyed || res.writableEnded) return clearInterval(pump);
      const due = Math.min(total, Math.floor(((Date.now() - startedAt) / 1000) * rate));
      let chunk = '';
      for (; sent < due; sent++) chunk += `data: ${JSON.stringify({ ...event, message: `Flood ${sent + 1}`, timestamp: Date.now() / 1000 })}\n\n`;
      if (chunk) raw(chunk);
      if (sent >= total) clearInterval(pump);
    }, 10);
  };

  return {
    write(frame, { isEvent = true } = {}) {
      if (ended) return;
      if (fault?.kind === 'stall') return;
      enqueue(async () => {
        if (!isEvent) return bytesOut(frame);
        events++;
        if (fault?.kind === 'hostile') frame = hostileFrame(frame, hostileCounter);
        if (fault?.kind === 'duplicate') {
          await bytesOut(frame);
          return bytesOut(frame);
        }
        if (fault?.kind === 'out-of-order') {
          if (held === undefined) {
            held = frame;
            return undefined;
          }
          const first = held;
          held = undefined;
          await bytesOut(frame);
          return bytesOut(first);
        }
        await bytesOut(frame);
        // the second event: CodeBegen's first is the stream's own 'connected'
        if (fault?.kind === 'flood' && events === 2) flood(frame);
        if (fault?.kind === 'close-after' && events >= (fault.events ?? 3)) {
          ended = true;
          res.end();
        }
        return undefined;
      });
    },
    end() {
      if (ended) return;
      ended = true;
      enqueue(async () => {
        if (held !== undefined) await bytesOut(held);
        res.end();
      });
    },
    get stalled() {
      return fault?.kind === 'stall';
    },
  };
}

/** A progress message broken the ways a platform's numbers break (the `bad-numbers` fault); the real one follows it. */
export function badNumbers(text, count) {
  const message = JSON.parse(text);
  if (message.type !== 'progress') return text;
  const breakages = [
    { percentage: null },
    { percentage: -20 },
    { percentage: 250 },
    { percentage: '64' },
    { current_step: Math.max(0, (message.current_step ?? 10) - 10), elapsed_time: (message.elapsed_time ?? 1) + 0.01 },
    { total_steps: 0 },
    { status: 'exploded' },
    { task_id: undefined },
    { elapsed_time: -5 },
  ];
  return JSON.stringify({ ...message, ...breakages[count % breakages.length] });
}
