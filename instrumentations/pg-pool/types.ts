import type { InstrumentationConfig } from '@opentelemetry/instrumentation';

export interface PgPoolInstrumentationConfig extends InstrumentationConfig {
  /** Pools observed at once; later ones are counted but not observed. @default 64 */
  maxPools?: number;
  /** Called once when `maxPools` is first exceeded. @default () => {} */
  onPoolLimit?: (limit: number) => void;
}
