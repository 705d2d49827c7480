import { describe, expect, it } from 'vitest';
import { parseHost } from '../../instrumentations/http-server/utils.js';

describe('parseHost (server.address / server.port from the Host header)', () => {
  const cases: [string | undefined, { address?: string; port?: number }][] = [
    ['example.com', { address: 'example.com' }],
    ['example.com:8080', { address: 'example.com', port: 8080 }],
    ['127.0.0.1:3000', { address: '127.0.0.1', port: 3000 }],
    ['[::1]:443', { address: '::1', port: 443 }],
    ['[::1]', { address: '::1', port: undefined }],
    ['[::1', { address: '[::1' }],
    ['host:0', { address: 'host', port: undefined }],
    ['host:http', { address: 'host', port: undefined }],
    ['', {}],
    [undefined, {}],
  ];

  it('reads host and port, whatever the header held on the request before', () => {
    // Each header twice in a row (the remembered last one answers), then all in another order.
    for (const [host, expected] of [...cases, ...cases.toReversed()]) {
      expect(parseHost(host)).toEqual(expected);
      expect(parseHost(host)).toEqual(expected);
    }
  });
});
