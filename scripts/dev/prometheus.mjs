// Parses Prometheus text exposition (0.0.4, plus the OpenMetrics bits exporters commonly emit)
// into flat samples. Types: prometheus.d.mts.
// Strict on purpose: a malformed line throws with its line number instead of being skipped,
// because a parser that silently drops samples hides exporter bugs.

const NAME_START = /[a-zA-Z_:]/;
const NAME_CHAR = /[a-zA-Z0-9_:]/;

function parseValue(token, lineNo) {
  switch (token) {
    case '+Inf':
    case 'Inf':
    case '+inf':
    case 'inf':
      return Infinity;
    case '-Inf':
    case '-inf':
      return -Infinity;
    case 'NaN':
    case 'nan':
      return NaN;
  }
  // Number('') is 0 and Number('0x1') is 1: neither is a valid sample value.
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(token)) {
    throw new Error(`line ${lineNo}: invalid sample value ${JSON.stringify(token)}`);
  }
  return Number(token);
}

/** Parses one sample line; `i` walks the line so quoted label values may contain any character. */
function parseSampleLine(line, lineNo) {
  let i = 0;
  const fail = (why) => {
    throw new Error(`line ${lineNo}: ${why} at column ${i + 1}: ${line}`);
  };
  const skipSpaces = () => {
    while (line[i] === ' ' || line[i] === '\t') i++;
  };
  const readName = () => {
    const start = i;
    if (!NAME_START.test(line[i] ?? '')) fail('expected a metric or label name');
    while (i < line.length && NAME_CHAR.test(line[i])) i++;
    return line.slice(start, i);
  };
  const readQuoted = () => {
    if (line[i] !== '"') fail('expected "');
    i++;
    let out = '';
    for (;;) {
      const c = line[i++];
      if (c === undefined) fail('unterminated quoted string');
      if (c === '"') return out;
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = line[i++];
      if (e === 'n') out += '\n';
      else if (e === '\\' || e === '"') out += e;
      else out += `\\${e ?? ''}`; // the format leaves other escapes as literal text
    }
  };

  let name = line[i] === '{' ? '' : readName();
  const labels = {};
  if (line[i] === '{') {
    i++;
    for (;;) {
      skipSpaces();
      if (line[i] === '}') {
        i++;
        break;
      }
      // Quoted names (UTF-8 metric/label names): a bare quoted string inside the braces is the metric name.
      const key = line[i] === '"' ? readQuoted() : readName();
      skipSpaces();
      if (line[i] === '=') {
        i++;
        skipSpaces();
        if (Object.hasOwn(labels, key)) fail(`duplicate label ${key}`);
        labels[key] = readQuoted();
      } else if (!name) {
        name = key;
      } else {
        fail('expected =');
      }
      skipSpaces();
      if (line[i] === ',') i++;
      else if (line[i] !== '}') fail('expected , or }');
    }
  }
  if (!name) fail('missing metric name');
  if (line[i] !== ' ' && line[i] !== '\t') fail('expected whitespace before the value');
  const rest = line
    .slice(i)
    .trim()
    .split(/[ \t]+/);
  if (rest.length > 2 || rest[0] === '') fail('expected "value [timestamp]"');
  const sample = { name, labels, value: parseValue(rest[0], lineNo) };
  if (rest.length === 2) {
    if (!/^-?\d+(\.\d+)?$/.test(rest[1])) fail(`invalid timestamp ${rest[1]}`);
    sample.timestamp = Number(rest[1]);
  }
  return sample;
}

/**
 * Every sample in the exposition, in order. HELP/TYPE/comment lines and `# EOF` are skipped;
 * histogram and summary series come out as their `_bucket`/`_sum`/`_count` samples.
 */
export function parsePrometheusText(text) {
  const samples = [];
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n].replace(/\r$/, '').trim();
    if (line === '' || line.startsWith('#')) continue;
    samples.push(parseSampleLine(line, n + 1));
  }
  return samples;
}

/** First sample with this name whose labels include all of `labels` (extra labels are allowed). */
export function findSample(samples, name, labels = {}) {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

/** Fetches a /metrics endpoint; the body is parsed only for a 2xx answer, so error pages never throw. */
export async function scrape(url, init) {
  const res = await fetch(url, init);
  const text = await res.text();
  return {
    status: res.status,
    contentType: res.headers.get('content-type') ?? '',
    samples: res.ok ? parsePrometheusText(text) : [],
    text,
  };
}
