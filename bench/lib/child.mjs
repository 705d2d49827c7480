// Runs a suite's own file as a child pinned to the server CPU, passing JSON in argv and
// reading one JSON result from its stdout.
import { exited } from '../../scripts/dev/supervisor.mjs';
import { spawnTracked } from './procs.mjs';

export async function runPinnedChild(script, args, ctx, what) {
  const child = spawnTracked([process.execPath, script, '--child', JSON.stringify(args)], {
    cpu: ctx.pinning.server,
    pinning: ctx.pinning,
    cwd: ctx.root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
  const { code, signal } = await exited(child);
  if (code !== 0) throw new Error(`${what} benchmark child failed (code ${code}, signal ${signal}): ${stderr.trim().slice(-2000)}`);
  return JSON.parse(stdout);
}
