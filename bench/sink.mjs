// The OTLP sink, in a process of its own so that decoding spans is not charged to the
// server under test. Talks to the orchestrator over IPC:
//   → { type: 'ready', url, port }        once listening
//   ← { type: 'count', id }  → { type: 'count', id, spanCount, errors, lastError }
// Exits when the orchestrator disconnects, so it can never outlive it.
const receiverUrl = new URL('../scripts/dev/otlp-receiver.mjs', import.meta.url);

function fail(message) {
  process.send?.({ type: 'error', message });
  console.error(`sink: ${message}`);
  process.exit(1);
}

let startOtlpReceiver;
try {
  ({ startOtlpReceiver } = await import(receiverUrl.href));
} catch (err) {
  fail(`cannot load ${receiverUrl.pathname}: ${err.message}`);
}

const receiver = await startOtlpReceiver({ protocol: 'http', countOnly: true }).catch((err) => fail(`receiver did not start: ${err.message}`));

async function close() {
  await receiver.close().catch(() => {});
  process.exit(0);
}
process.on('disconnect', close);
process.on('SIGTERM', close);
process.on('message', (msg) => {
  if (msg?.type !== 'count') return;
  const errors = receiver.errors ?? [];
  process.send({ type: 'count', id: msg.id, spanCount: receiver.spanCount, errors: errors.length, lastError: errors.at(-1) });
});
process.send({ type: 'ready', url: receiver.url, port: receiver.port });
