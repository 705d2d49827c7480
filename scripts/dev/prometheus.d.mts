// Types of prometheus.mjs.
export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
  timestamp?: number; // milliseconds, only when the line carries one
}

export interface ScrapeResult {
  status: number;
  contentType: string;
  samples: PromSample[];
  text: string;
}

/** Every sample in the exposition, in order; throws with the line number on a malformed line. */
export function parsePrometheusText(text: string): PromSample[];
/** First sample with this name whose labels include all of `labels` (extra labels are allowed). */
export function findSample(samples: PromSample[], name: string, labels?: Record<string, string>): PromSample | undefined;
/** Fetches a /metrics endpoint; the body is parsed only for a 2xx answer, so error pages never throw. */
export function scrape(url: string, init?: RequestInit): Promise<ScrapeResult>;
