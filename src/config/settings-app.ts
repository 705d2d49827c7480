import { HEALTH_DEFAULTS } from '../insight/health.js';
import { DEFAULT_THRESHOLDS } from '../insight/processor.js';
import { bool, host, int, ms, port, range, token, url, weights } from './kinds.js';
import { setting, type Setting } from './setting.js';
import { THRESHOLD_RULES } from './thresholds.js';

// The settings of what healthspan adds to the app's telemetry: databases, insight (alerts and
// the health score), the admin API, WebSocket. Part of SETTINGS (settings.ts), in this order.
// Alert thresholds and the Apdex T are insight's own defaults, taken from there.

export const APP_SETTINGS: readonly Setting[] = [
  // Databases
  setting('db.sanitize', {
    env: ['HEALTHSPAN_DB_SANITIZE'],
    kind: bool,
    default: true,
    doc: {
      section: 'db',
      example: 'false',
      meaning: 'Literals in `db.query.text` become `?` (see [database.md](database.md)). `false` exports statements with their literals: **unsafe**.',
    },
  }),
  setting('db.connectSpans', {
    env: ['HEALTHSPAN_DB_CONNECT_SPANS'],
    kind: bool,
    default: false,
    doc: {
      section: 'db',
      example: 'true',
      meaning:
        'A span for every new pg connection (`pg.connect`, `pg-pool.connect`), and Redis connection set-up (`redis-connect`, ioredis `connect`, `HELLO`, `CLIENT SETINFO` …) exported also when it has no parent. Never counted as queries either way (docs/database.md).',
    },
  }),

  // WebSocket
  setting('ws.messageSpans', {
    env: ['HEALTHSPAN_WS_MESSAGE_SPANS'],
    kind: bool,
    default: false,
    doc: {
      section: 'ws',
      example: 'true',
      meaning: 'A CONSUMER `receive <route>` / PRODUCER `send <route>` span per message, linked to the handshake span (see [websocket.md](websocket.md)).',
    },
  }),
  setting('ws.messageSpansPerConnection', {
    env: ['HEALTHSPAN_WS_MESSAGE_SPAN_LIMIT'],
    kind: int(0, 1_000_000),
    default: 100,
    doc: { section: 'ws', example: '1000', meaning: 'Message spans per connection; later messages are counted in `healthspan.ws.message.spans.capped`.' },
  }),

  // Insight
  setting('insight.enabled', {
    env: ['HEALTHSPAN_INSIGHT'],
    kind: bool,
    default: true,
    doc: {
      section: 'insight',
      example: 'false',
      meaning: 'Compute alerts and the health score in the process (`getHealth()`, `getAlerts()`, `onAlert()`, `healthspan.health.*`, `healthspan.alerts`).',
    },
  }),
  setting('insight.slowRequestMs', {
    env: ['HEALTHSPAN_SLOW_REQUEST_MS'],
    kind: THRESHOLD_RULES.requestMs,
    default: DEFAULT_THRESHOLDS.requestMs,
    doc: {
      section: 'insight',
      example: '300',
      meaning: 'A route whose p95 over 5 minutes exceeds this raises `slow_request`; a single slower request is tagged `healthspan.slow=true`.',
    },
  }),
  setting('insight.slowQueryMs', {
    env: ['HEALTHSPAN_SLOW_QUERY_MS'],
    kind: THRESHOLD_RULES.queryMs,
    default: DEFAULT_THRESHOLDS.queryMs,
    doc: { section: 'insight', example: '50', meaning: 'The same for a statement summary (`slow_query`).' },
  }),
  setting('insight.errorRate', {
    env: ['HEALTHSPAN_ERROR_RATE'],
    kind: THRESHOLD_RULES.errorRate,
    default: DEFAULT_THRESHOLDS.errorRate,
    doc: {
      section: 'insight',
      example: '0.01',
      meaning: `A route whose share of 5xx answers (after ${DEFAULT_THRESHOLDS.errorMinSamples} requests) exceeds this raises \`error_rate\`.`,
    },
  }),
  setting('insight.webhookUrl', {
    env: ['HEALTHSPAN_ALERT_WEBHOOK_URL'],
    kind: url,
    default: undefined,
    doc: {
      section: 'insight',
      default: '–',
      example: 'https://hooks.example.com/healthspan',
      meaning:
        'Every alert transition is POSTed there as JSON `{ transition, alert }` (2 s timeout, 3 retries with backoff, at most 100 waiting; what is given up is warned about, rate-limited).',
    },
  }),
  setting('insight.intervalMs', {
    env: ['HEALTHSPAN_INSIGHT_INTERVAL_MS'],
    kind: ms(100, 600_000),
    default: 5000,
    doc: { section: 'insight', example: '1000', meaning: "How often the rules are evaluated and the score recomputed (an unref'd timer)." },
  }),
  setting('insight.warmupMs', {
    env: ['HEALTHSPAN_INSIGHT_WARMUP_MS'],
    kind: ms(0, 3_600_000),
    default: 30000,
    doc: {
      section: 'insight',
      example: '0',
      meaning:
        "After start, this long no `slow_request`, `slow_query`, `n_plus_one` or `event_loop` alert fires, and what ended meanwhile never counts for one (a fresh pool's first connections and cold plans are not a slow service). `error_rate` and `memory` judge from the start. `0` turns the warm-up off ([alerts.md](alerts.md#cold-start)).",
    },
  }),
  setting('insight.healthWeights', {
    env: ['HEALTHSPAN_HEALTH_WEIGHTS'],
    kind: weights,
    // Empty: every component keeps insight's default weight (the Default cell).
    default: {},
    doc: {
      section: 'insight',
      default: `\`${Object.entries(HEALTH_DEFAULTS.weights)
        .map(([k, w]) => `${k}=${w}`)
        .join(',')}\``,
      example: 'cache=0,database=30',
      meaning:
        'Health score weights; components not named keep their default, 0 leaves one out, the rest are renormalised ([health-score.md](health-score.md)).',
    },
  }),
  setting('insight.apdexMs', {
    env: ['HEALTHSPAN_APDEX_MS'],
    kind: range({ min: 1, max: 600_000, unit: 'ms' }),
    default: HEALTH_DEFAULTS.requestThresholdMs,
    doc: { section: 'insight', example: '250', meaning: 'Apdex T of request durations in the health score: satisfied ≤ T, tolerating ≤ 4T.' },
  }),
  setting('insight.memoryLimitMb', {
    env: ['HEALTHSPAN_MEMORY_LIMIT_MB'],
    kind: range({ min: 16, max: 4_194_304, integer: true, unit: 'MiB' }),
    default: undefined,
    doc: {
      section: 'insight',
      default: 'the cgroup memory limit, if any',
      example: '512',
      meaning:
        "Memory the process may use: RSS above 90 % of it fires the `memory` alert (key `rss`; critical once over it), and RSS against it counts in the score's resources. Without this and without a cgroup limit, RSS is not judged (the heap still is).",
    },
  }),

  // Admin API and status page
  setting('admin.token', {
    env: ['HEALTHSPAN_ADMIN_TOKEN'],
    kind: token,
    default: undefined,
    doc: {
      section: 'admin',
      default: 'none',
      example: 'change-me-to-24-random-bytes',
      meaning:
        'Bearer token every admin route needs (make one with `openssl rand -base64 24`). Without it, reads are answered to loopback only and changes are refused. Never echoed, not even when malformed.',
    },
  }),
  setting('admin.port', {
    env: ['HEALTHSPAN_ADMIN_PORT'],
    kind: port,
    default: undefined,
    doc: {
      section: 'admin',
      default: 'none (no server of its own)',
      example: '9465',
      meaning: 'Serve the admin API and status page on a listener of their own, at its root.',
    },
  }),
  setting('admin.host', {
    env: ['HEALTHSPAN_ADMIN_HOST'],
    kind: host,
    default: '127.0.0.1',
    doc: { section: 'admin', example: '0.0.0.0', meaning: 'Interface of that listener. Set a token before opening it beyond loopback.' },
  }),
];
