// Shared lifecycle of the CommonJS benchmark apps (see serve.mjs): listen on PORT (0 = any),
// print the port, stop on SIGTERM or when the orchestrator holding our stdin goes away.
// On the first request, prints how many modules are loaded (require.cache), for the report.
'use strict';

function serve(server, onStop = () => {}) {
  let stopping = false;
  function stop() {
    if (stopping) return;
    stopping = true;
    server.close();
    server.closeAllConnections();
    if (process.env.BENCH_EXIT_ON_STDIN_END) process.stdin.destroy();
    onStop();
  }
  process.on('SIGTERM', stop);
  if (process.env.BENCH_EXIT_ON_STDIN_END) process.stdin.on('end', stop).on('error', stop).resume();
  server.once('request', () => console.log(`modules ${Object.keys(require.cache).length}`));
  server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
    console.log(`listening on ${server.address().port}`);
  });
}

module.exports = { serve };
