// A stream that sends as fast as the socket drains: the yardstick for an SSE client's
// throughput. The events are CodeBegen progress events, so a client parses what it parses in
// production; the count and size come from the query.
import { sseFrame, startSse } from './http.js';

const MAX_EVENTS = 1_000_000;

/** GET ...?events=N&size=BYTES: N events of about BYTES each, then the stream ends. */
export function streamFirehose(req, res, url) {
  const events = Math.min(MAX_EVENTS, Math.max(1, Number(url.searchParams.get('events')) || 10_000));
  const size = Math.min(64_000, Math.max(120, Number(url.searchParams.get('size')) || 300));
  startSse(res);
  const filler = 'x'.repeat(Math.max(0, size - 200));
  let sent = 0;
  let closed = false;
  res.on('close', () => {
    closed = true;
  });
  const pump = () => {
    // whole chunks of frames per write: one write per event would measure Node, not the client
    while (!closed && sent < events) {
      let chunk = '';
      for (let i = 0; i < 200 && sent < events; i++, sent++) {
        chunk += sseFrame({
          id: sent + 1,
          data: JSON.stringify({
            generation_id: 'gen_firehose',
            status: 'processing',
            stage: 'code_generation',
            progress: (sent / events) * 100,
            message: `Event ${sent + 1} ${filler}`,
            timestamp: Date.now() / 1000,
          }),
        });
      }
      if (!res.write(chunk)) {
        res.once('drain', pump);
        return;
      }
    }
    if (!closed) res.end();
  };
  pump();
}
