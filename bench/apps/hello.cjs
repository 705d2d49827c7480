// Benchmark app (CommonJS): GET / → "hello".
'use strict';
const http = require('node:http');
const { serve } = require('./serve.cjs');

const server = http.createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end('hello');
});

serve(server);
