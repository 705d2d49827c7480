// Free TCP ports on a host. Types: ports.d.mts.
import net from 'node:net';

function listenOnce(port, host) {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port, host, exclusive: true }, () => {
      const { port: actual } = server.address();
      server.close(() => resolve(actual));
    });
  });
}

/** A port nothing listens on right now (another process may still take it before you do). */
export const freePort = (host = '127.0.0.1') => listenOnce(0, host);
export const isPortFree = (port, host = '127.0.0.1') =>
  listenOnce(port, host).then(
    () => true,
    () => false,
  );
