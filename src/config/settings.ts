import {
  bool,
  headerNames,
  host,
  int,
  keyValues,
  knownNamesKind,
  listKind,
  ms,
  name,
  names,
  namesOrAllKind,
  oneOfKind,
  path,
  port,
  range,
  url,
} from './kinds.js';
import { input, setting, type Setting, type SettingDoc } from './setting.js';
import { APP_SETTINGS } from './settings-app.js';
import {
  DURATION_BUCKETS,
  INSTRUMENTATION_NAMES,
  LOG_LEVELS,
  LOGS_EXPORTERS,
  METRICS_EXPORTERS,
  OTLP_COMPRESSIONS,
  OTLP_PROTOCOLS,
  PROPAGATORS,
  RESOURCE_DETECTORS,
  SAMPLERS,
  SECRET_HEADERS,
  TRACES_EXPORTERS,
} from './values.js';

// Every setting, written once: where it lives in SdkConfig and start() options, its env vars,
// its kind (parser, range, texts), its default and its row in docs/configuration.md. The
// resolver (env.ts), the docs (`npm run docs:config`) and the tests all read this table.
// Resolution follows this order (a setting another one needs is resolved first), and so does
// the list of problems.

const OTLP_HTTP_BASE = 'http://localhost:4318';
const OTLP_GRPC_BASE = 'http://localhost:4317';
const SIGNALS = ['traces', 'metrics', 'logs'] as const;
type Signal = (typeof SIGNALS)[number];
const INSTRUMENTATION_PREFIX = '@opentelemetry/instrumentation-';
const instrumentationNames = knownNamesKind(INSTRUMENTATION_NAMES, { prefix: INSTRUMENTATION_PREFIX, noun: 'instrumentation names' });
const code = (v: string) => `\`${v}\``;

/** One doc row for the three signals of an OTLP setting: its per-signal variables join the shared one. */
const OTLP_DOCS = {
  endpoint: { section: 'otlp', default: 'from the base', example: 'https://otlp.example.com/v1/logs', meaning: 'Used as is.' },
  protocol: {
    section: 'otlp',
    example: 'grpc',
    meaning:
      'Wire protocol. Only the exporter for the chosen protocol is loaded. `grpc` needs `@grpc/grpc-js` installed by the app (an optional peer dependency).',
  },
  headers: {
    section: 'otlp',
    example: 'authorization=Bearer%20abc',
    meaning: 'Sent with every export (gRPC: as metadata); a per-signal list adds to the shared one and wins on the same key. Values are never printed.',
  },
  timeoutMillis: { section: 'otlp', example: '3000', meaning: 'Per-request timeout.' },
  compression: { section: 'otlp', example: 'gzip', meaning: 'Request compression.' },
} satisfies Record<string, SettingDoc>;

function otlpSettings(signal: Signal): Setting[] {
  const SIG = signal.toUpperCase();
  const env = (field: string) => [`OTEL_EXPORTER_OTLP_${SIG}_${field}`, `OTEL_EXPORTER_OTLP_${field}`];
  return [
    setting(`${signal}.otlp.endpoint`, {
      env: [`OTEL_EXPORTER_OTLP_${SIG}_ENDPOINT`],
      kind: url,
      // The spec: a per-signal endpoint is used as is; the base one gets /v1/<signal> appended (HTTP only).
      default: (s) => {
        const grpc = s.get(`${signal}.otlp.protocol`) === 'grpc';
        const base = s.input('OTEL_EXPORTER_OTLP_ENDPOINT', grpc ? OTLP_GRPC_BASE : OTLP_HTTP_BASE);
        return grpc ? base : `${base.replace(/\/+$/, '')}/v1/${signal}`;
      },
      doc: OTLP_DOCS.endpoint,
    }),
    setting(`${signal}.otlp.protocol`, { env: env('PROTOCOL'), kind: oneOfKind(OTLP_PROTOCOLS), default: 'http/protobuf', doc: OTLP_DOCS.protocol }),
    setting(`${signal}.otlp.headers`, { env: env('HEADERS'), kind: keyValues, default: {}, merge: true, doc: OTLP_DOCS.headers }),
    setting(`${signal}.otlp.timeoutMillis`, { env: env('TIMEOUT'), kind: ms(1, 600_000), default: 10000, doc: OTLP_DOCS.timeoutMillis }),
    setting(`${signal}.otlp.compression`, { env: env('COMPRESSION'), kind: oneOfKind(OTLP_COMPRESSIONS), default: 'none', doc: OTLP_DOCS.compression }),
  ];
}

/** What the batch rows of the docs call the items of a signal. */
interface BatchWords {
  /** `Spans`, `Log records`: starts a sentence. */
  Items: string;
  /** `spans`, `records`: what an abandoned export drops. */
  dropped: string;
  /** `spans`, `ones`: what a full queue refuses. */
  refused: string;
}

/** OTEL_BSP_* (spans) and OTEL_BLRP_* (log records): the same rules and defaults except the delay. */
function batchSettings(
  signal: 'traces' | 'logs',
  prefix: 'OTEL_BSP' | 'OTEL_BLRP',
  delay: number,
  words: BatchWords,
  delayMeaning: string,
  examples: string[],
): Setting[] {
  const section = signal;
  const queue = `${prefix}_MAX_QUEUE_SIZE`;
  return [
    setting(`${signal}.batch.scheduledDelayMillis`, {
      env: [`${prefix}_SCHEDULE_DELAY`],
      kind: ms(0, 3_600_000),
      default: delay,
      doc: { section, example: examples[0], meaning: delayMeaning },
    }),
    setting(`${signal}.batch.exportTimeoutMillis`, {
      env: [`${prefix}_EXPORT_TIMEOUT`],
      kind: ms(1, 3_600_000),
      default: 30000,
      doc: { section, example: examples[1], meaning: `An export still unanswered after this is abandoned; its ${words.dropped} are counted as dropped.` },
    }),
    setting(`${signal}.batch.maxQueueSize`, {
      env: [queue],
      kind: int(1, 1_000_000),
      default: 2048,
      doc: {
        section,
        example: examples[2],
        meaning: `${words.Items} waiting for export. When full, new ${words.refused} are dropped and counted in \`healthspan.exporter.dropped{signal="${signal}",reason="queue_full"}\`.`,
      },
    }),
    setting(`${signal}.batch.maxExportBatchSize`, {
      env: [`${prefix}_MAX_EXPORT_BATCH_SIZE`],
      kind: int(1, 1_000_000),
      default: 512,
      // Only a problem when someone asked for it; the default simply follows a small queue.
      refine: (size, s) => {
        const max = s.get(`${signal}.batch.maxQueueSize`);
        if (size <= max) return size;
        s.problem(`at most ${s.from?.option ? `options.${signal}.batch.maxQueueSize` : queue}, which is ${max}`, max);
        return max;
      },
      doc: { section, typeNote: '≤ queue size', example: examples[3], meaning: `${words.Items} per export request.` },
    }),
  ];
}

export const SETTINGS: readonly Setting[] = [
  // General
  setting('disabled', {
    env: ['OTEL_SDK_DISABLED'],
    kind: bool,
    default: false,
    doc: { section: 'general', example: 'true', meaning: 'Makes the preload and `start()` a no-op (nothing patched, nothing printed).' },
  }),
  setting('serviceName', {
    env: ['OTEL_SERVICE_NAME'],
    kind: name,
    default: (s) => s.get('resourceAttributes')['service.name'] ?? s.appName() ?? 'unknown_service:node',
    doc: {
      section: 'general',
      default: '`service.name` from `OTEL_RESOURCE_ATTRIBUTES`, else the `name` in `./package.json`, else `unknown_service:node`',
      example: 'checkout-api',
      meaning: '`service.name` of everything exported.',
    },
  }),
  setting('resourceAttributes', {
    env: ['OTEL_RESOURCE_ATTRIBUTES'],
    kind: keyValues,
    default: {},
    merge: true,
    doc: { section: 'general', example: 'deployment.environment.name=prod,service.version=1.4.2', meaning: 'Extra resource attributes.' },
  }),
  setting('resourceDetectors', {
    env: ['OTEL_NODE_RESOURCE_DETECTORS'],
    kind: namesOrAllKind(RESOURCE_DETECTORS, 'no cloud detector is available'),
    default: [...RESOURCE_DETECTORS],
    doc: {
      section: 'general',
      default: '`all`',
      example: 'host,process',
      meaning:
        'Local detectors only. No cloud detector is shipped, so nothing ever probes a cloud metadata endpoint. `container`: `container.id` from `/proc/self/cgroup` (cgroup v1) or `/proc/self/mountinfo` (cgroup v2; Docker, containerd, Podman), nothing outside a container.',
    },
  }),
  setting('propagators', {
    env: ['OTEL_PROPAGATORS'],
    kind: listKind(PROPAGATORS, { noneIsEmpty: true }),
    default: ['tracecontext', 'baggage'],
    doc: { section: 'general', example: 'tracecontext', meaning: 'Context propagation formats.' },
  }),
  setting('strict', {
    env: ['HEALTHSPAN_STRICT'],
    kind: bool,
    default: false,
    doc: { section: 'general', example: 'true', meaning: 'Configuration problems stop the start-up instead of being warned about.' },
  }),
  setting('logLevel', {
    env: ['OTEL_LOG_LEVEL'],
    kind: oneOfKind(LOG_LEVELS),
    default: 'info',
    doc: {
      section: 'general',
      example: 'warn',
      meaning: "healthspan's own stderr lines (all start with `healthspan:`) and OpenTelemetry's diagnostics. `warn` hides the startup block.",
    },
  }),

  // Traces
  setting('traces.exporter', {
    env: ['OTEL_TRACES_EXPORTER'],
    kind: oneOfKind(TRACES_EXPORTERS),
    default: 'otlp',
    doc: { section: 'traces', example: 'none', meaning: 'Where spans go.' },
  }),
  setting('traces.sampler', {
    env: ['OTEL_TRACES_SAMPLER'],
    kind: oneOfKind(SAMPLERS),
    default: 'parentbased_always_on',
    doc: {
      section: 'traces',
      example: 'parentbased_traceidratio',
      meaning:
        'Head sampling: decides which spans are **exported**. Spans it drops are still recorded in the process (not exported, and marked not-sampled downstream), so metrics derived from spans — `db.client.operation.duration` — count every operation whatever the rate.',
    },
  }),
  setting('traces.samplerArg', {
    env: ['OTEL_TRACES_SAMPLER_ARG'],
    kind: range({ min: 0, max: 1 }),
    default: 1,
    doc: { section: 'traces', example: '0.1', meaning: 'Ratio for the `*traceidratio` samplers.' },
  }),
  ...batchSettings('traces', 'OTEL_BSP', 5000, { Items: 'Spans', dropped: 'spans', refused: 'spans' }, 'Delay between two exports.', [
    '1000',
    '10000',
    '4096',
    '256',
  ]),

  // Metrics
  setting('metrics.exporters', {
    env: ['OTEL_METRICS_EXPORTER'],
    kind: listKind(METRICS_EXPORTERS, { noneIsEmpty: true }),
    default: ['prometheus'],
    doc: { section: 'metrics', example: 'prometheus,otlp', meaning: 'Several at once are fine.' },
  }),
  setting('metrics.exportIntervalMillis', {
    env: ['OTEL_METRIC_EXPORT_INTERVAL'],
    kind: ms(100, 86_400_000),
    default: 60000,
    doc: { section: 'metrics', example: '15000', meaning: 'Interval of the OTLP / console readers.' },
  }),
  setting('metrics.exportTimeoutMillis', {
    env: ['OTEL_METRIC_EXPORT_TIMEOUT'],
    kind: ms(1, 3_600_000),
    default: 30000,
    doc: { section: 'metrics', example: '5000', meaning: 'Per-export timeout of those readers (never more than the interval).' },
  }),
  setting('metrics.durationBuckets', {
    env: ['HEALTHSPAN_METRICS_DURATION_BUCKETS'],
    kind: oneOfKind(DURATION_BUCKETS),
    default: 'semconv',
    doc: {
      section: 'metrics',
      example: 'fine',
      meaning:
        "Buckets of the semantic-convention duration histograms. `semconv`: the conventions' advice — HTTP `0.005 … 10` s (14 bounds), database `0.001 … 10` s (9 bounds) — what OpenTelemetry dashboards and SLO rules assume. `fine`: healthspan's 16 bounds `0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10` s, 7 of them below 100 ms, for services whose requests and queries mostly take a few ms (better p50/p95 from the histogram; `le` values then differ from other OpenTelemetry data).",
    },
  }),
  setting('metrics.prometheus.host', {
    env: ['HEALTHSPAN_PROMETHEUS_HOST'],
    kind: host,
    default: '127.0.0.1',
    doc: { section: 'metrics', example: '0.0.0.0', meaning: 'Interface of the scrape endpoint. Loopback unless you say otherwise.' },
  }),
  setting('metrics.prometheus.port', {
    env: ['HEALTHSPAN_PROMETHEUS_PORT'],
    kind: port,
    default: 9464,
    doc: { section: 'metrics', example: '9100', meaning: 'Port of the scrape endpoint. A busy port is reported once; the app is unaffected.' },
  }),
  setting('metrics.prometheus.path', {
    env: ['HEALTHSPAN_PROMETHEUS_PATH'],
    kind: path,
    default: '/metrics',
    doc: { section: 'metrics', example: '/internal/metrics', meaning: 'Path of the scrape endpoint.' },
  }),
  setting('metrics.prometheus.serve', {
    env: ['HEALTHSPAN_PROMETHEUS_SERVE'],
    kind: bool,
    default: true,
    doc: { section: 'metrics', example: 'false', meaning: '`false`: open no port; mount `createPrometheusHandler()` on your own server instead.' },
  }),

  // Logs (alert records)
  setting('logs.exporter', {
    env: ['OTEL_LOGS_EXPORTER'],
    kind: oneOfKind(LOGS_EXPORTERS),
    // Alert log records follow the traces by default: a setup that sends traces over OTLP
    // (to a Collector) gets them; one that prints or drops its traces gets none.
    default: (s) => (s.get('traces.exporter') === 'otlp' ? 'otlp' : 'none'),
    doc: {
      section: 'logs',
      default: '`otlp` when `OTEL_TRACES_EXPORTER` is `otlp` (its default), else `none`',
      example: 'none',
      meaning:
        'Where alert log records go. The default follows the traces: a setup that sends spans over OTLP gets the records from the same base endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/logs`); one that prints or drops its spans gets none unless it asks. Jaeger and Tempo store no logs (a record sent there is counted as dropped, with a warning): point `OTEL_EXPORTER_OTLP_LOGS_ENDPOINT` at a Collector or Loki, or set `none`. `console` prints each record to stdout.',
    },
  }),
  ...batchSettings('logs', 'OTEL_BLRP', 1000, { Items: 'Log records', dropped: 'records', refused: 'ones' }, 'Delay between two log record exports.', [
    '5000',
    '10000',
    '256',
    '100',
  ]),

  // OTLP exporter
  input<string>('OTEL_EXPORTER_OTLP_ENDPOINT', {
    kind: url,
    default: OTLP_HTTP_BASE,
    doc: {
      section: 'otlp',
      default: `${code(OTLP_HTTP_BASE)} (${code(OTLP_GRPC_BASE)} for gRPC)`,
      example: 'http://collector:4318',
      meaning: 'Base URL; `/v1/traces`, `/v1/metrics` and `/v1/logs` are appended for HTTP.',
    },
  }),
  ...SIGNALS.flatMap(otlpSettings),

  // HTTP
  setting('http.requestHeaders', {
    env: ['HEALTHSPAN_HTTP_REQUEST_HEADERS'],
    kind: headerNames,
    default: [],
    doc: {
      section: 'http',
      example: 'x-request-id,user-agent',
      meaning: `Request headers recorded as \`http.request.header.<name>\` on server and client spans. ${SECRET_HEADERS.map(code)
        .join(', ')
        .replace(/, ([^,]+)$/, ' and $1')} are refused with a warning.`,
    },
  }),
  setting('http.responseHeaders', {
    env: ['HEALTHSPAN_HTTP_RESPONSE_HEADERS'],
    kind: headerNames,
    default: [],
    doc: { section: 'http', example: 'content-type', meaning: 'Response headers recorded as `http.response.header.<name>`. Same refusals.' },
  }),
  setting('http.routeTemplateLimit', {
    env: ['HEALTHSPAN_HTTP_ROUTE_LIMIT'],
    kind: int(1, 10_000),
    default: 200,
    doc: {
      section: 'http',
      example: '500',
      meaning:
        'Distinct route templates derived from raw paths (servers without a router); later ones are reported as `_other` and counted in `healthspan.http.route.folded`.',
    },
  }),
  setting('http.redactQueryParams', {
    env: ['HEALTHSPAN_REDACT_QUERY_PARAMS'],
    kind: names,
    default: [],
    doc: {
      section: 'http',
      example: 'email,phone',
      meaning:
        'More query parameters whose values become `REDACTED` in exported URLs. Always redacted: any name containing `token`, `key`, `secret`, `password`, `passwd`, `pwd`, `auth`, `signature`, `credential`, `session` or `jwt`, and the names `sig` and `code`.',
    },
  }),
  ...APP_SETTINGS,
  // Last: an unknown name is reported after the settings above.
  setting('instrumentations', {
    env: ['OTEL_NODE_ENABLED_INSTRUMENTATIONS'],
    kind: instrumentationNames,
    default: [...INSTRUMENTATION_NAMES],
    // The disabled list trims the env's (or the default) list; an option list is taken as is.
    refine: (list, s) => {
      if (s.from?.option) return list;
      const disabled = s.input<string[]>('OTEL_NODE_DISABLED_INSTRUMENTATIONS', []);
      return list.filter((n) => !disabled.includes(n));
    },
    doc: { section: 'general', default: 'all', example: 'http,undici,pg', meaning: 'Only these are loaded.' },
  }),
  input<string[]>('OTEL_NODE_DISABLED_INSTRUMENTATIONS', {
    kind: instrumentationNames,
    default: [],
    doc: { section: 'general', example: 'runtime-node', meaning: 'Removed from the enabled set.' },
  }),
  setting('shutdownTimeoutMillis', {
    env: ['HEALTHSPAN_SHUTDOWN_TIMEOUT'],
    kind: ms(0, 600_000),
    default: 5000,
    doc: { section: 'general', example: '2000', meaning: 'Longest flush on SIGTERM / SIGINT / `shutdown()`.' },
  }),
  setting('exitFlushTimeoutMillis', {
    env: ['HEALTHSPAN_EXIT_FLUSH_TIMEOUT'],
    kind: ms(0, 60_000),
    default: 1000,
    doc: {
      section: 'general',
      example: '3000',
      meaning:
        'Longest flush when the process ends on its own (`beforeExit`: a CLI, a cron job, a test run), without retries; the process then exits and what is unsent is counted in `healthspan.exporter.dropped{reason="shutdown"}`. See [exporters.md](exporters.md#when-the-process-ends).',
    },
  }),
  setting('warnIntervalMillis', {
    env: ['HEALTHSPAN_WARN_INTERVAL'],
    kind: ms(0, 86_400_000),
    default: 60000,
    doc: {
      section: 'general',
      example: '10000',
      meaning: 'A repeated warning (e.g. the collector is down) is printed at most once per interval, with the number of repeats held back.',
    },
  }),
];
