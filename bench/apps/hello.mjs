// Benchmark app: GET / → "hello". Prints its port once listening. Default imports of
// node:http on purpose, so require-hook instrumentations patch the object we use.
import http from 'node:http';

const server = http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end('hello');
});

let stopping = false;
function stop() {
  if (stopping) return;
  stopping = true;
  server.close();
  server.closeAllConnections();
  if (process.env.BENCH_EXIT_ON_STDIN_END) process.stdin.destroy();
}
process.on('SIGTERM', stop);
// The orchestrator holds our stdin: if it dies without cleaning up, we go too.
if (process.env.BENCH_EXIT_ON_STDIN_END) process.stdin.on('end', stop).on('error', stop).resume();

server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log(`listening on ${server.address().port}`);
});
