// Shared by the equivalence apps: each app runs the same behaviours bare and preloaded and
// prints what it observed as one `RESULT <json>` line; the test compares the two.

/** What a thrown or rejected value looks like to the app: constructor, message, code. */
export function describeError(err, normalize = (s) => s) {
  if (!(err instanceof Error)) return { thrown: typeof err, value: String(err) };
  const out = { error: err.constructor.name, message: normalize(err.message) };
  if (err.code !== undefined) out.code = err.code;
  if (err.cause instanceof Error) out.cause = describeError(err.cause, normalize);
  return out;
}

/** Runs `fn` (sync or async) and returns its value, or the error it threw or rejected with. */
export async function attempt(fn, normalize) {
  try {
    return { value: await fn() };
  } catch (err) {
    return describeError(err, normalize);
  }
}

/** The parts of a function an app can observe without calling it. */
export const sig = (fn) => (typeof fn === 'function' ? { name: fn.name, length: fn.length } : typeof fn);

/** Header names, sorted (values such as dates and lengths differ between runs). */
export const names = (headers) =>
  Object.keys(headers instanceof Headers ? Object.fromEntries(headers) : headers)
    .map((h) => h.toLowerCase())
    .sort();

/** Replaces the run's own port numbers, which differ between the two runs. */
export const withoutPorts = (ports) => (s) => {
  let out = s;
  for (const p of ports) out = out.split(String(p)).join('PORT');
  return out;
};

export function report(result) {
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
}
