// The load generator, in a process of its own (pinned next to the sink, away from the
// server). Talks to the orchestrator over IPC:
//   ← { type: 'run', id, url, connections, duration | amount, expectBody }  (amount: a number of requests)
//   → { type: 'result', id, result }   (a summary of autocannon's result)
import autocannon from 'autocannon';

function summarize(r) {
  return {
    requests: r.requests.total,
    sent: r.requests.sent,
    durationS: r.duration,
    reqPerSec: r.requests.total / r.duration,
    latencyP50Ms: r.latency.p50,
    latencyP99Ms: r.latency.p99,
    latencyMaxMs: r.latency.max,
    errors: r.errors,
    timeouts: r.timeouts,
    non2xx: r.non2xx,
    mismatches: r.mismatches,
  };
}

process.on('disconnect', () => process.exit(0));
process.on('message', async (msg) => {
  if (msg?.type !== 'run') return;
  try {
    const result = await autocannon({
      url: msg.url,
      connections: msg.connections,
      ...(msg.amount === undefined ? { duration: msg.duration } : { amount: msg.amount }),
      expectBody: msg.expectBody,
      timeout: 10,
    });
    process.send({ type: 'result', id: msg.id, result: summarize(result) });
  } catch (err) {
    process.send({ type: 'result', id: msg.id, error: err?.message ?? String(err) });
  }
});
process.send({ type: 'ready' });
