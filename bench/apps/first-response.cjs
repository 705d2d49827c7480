// Start-up probe (CommonJS): a node:http server that requests itself once and exits when the
// answer is in. bench/startup-instructions.mjs counts the instructions of the whole process.
'use strict';
const http = require('node:http');

const server = http.createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end('hello');
});
server.listen(0, '127.0.0.1', () => {
  http.get(`http://127.0.0.1:${server.address().port}/`, { agent: false }, (res) => {
    res.resume();
    res.on('end', () => process.exit(res.statusCode === 200 ? 0 : 1));
  });
});
