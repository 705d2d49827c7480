// Shared lifecycle of the benchmark apps: listen on PORT (0 = any), print the port, and stop
// on SIGTERM — or when the orchestrator that holds our stdin goes away without cleaning up.
export function serve(server, onStop = () => {}) {
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
  server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
    console.log(`listening on ${server.address().port}`);
  });
}
