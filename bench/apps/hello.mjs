// Benchmark app: GET / → "hello". Prints its port once listening. Default imports of
// node:http on purpose, so require-hook instrumentations patch the object we use.
import http from 'node:http';
import { serve } from './serve.mjs';

const server = http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end('hello');
});

serve(server);
