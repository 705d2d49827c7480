import http from 'node:http';
import type https from 'node:https';
import { context } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import type { Alert, Transition } from './alerts.js';

export interface WebhookOptions {
  url: string;
  /** Per-attempt timeout. @default 2000 */
  timeoutMs?: number;
  /** Attempts after the first one, with exponential backoff. @default 3 */
  retries?: number;
  /** First backoff delay; doubled at each retry. @default 500 */
  backoffMs?: number;
  /** Notifications waiting to be sent; past it new ones are dropped and counted. @default 100 */
  maxQueue?: number;
  /** Extra request headers (e.g. an authorization token). @default {} */
  headers?: Record<string, string>;
  /** Reports a notification given up on (rate-limited by the caller). */
  onDrop?: (reason: string) => void;
}

/**
 * Sends each alert transition as a JSON POST, one at a time from a bounded queue: never
 * blocks the caller, retries with exponential backoff, gives up after `retries`, counts what
 * it drops, runs with tracing suppressed (our own traffic is not the app's) and never keeps
 * the process alive.
 */
export class WebhookNotifier {
  private readonly queue: string[] = [];
  private sending = false;
  sent = 0;
  dropped = 0;

  constructor(private readonly o: WebhookOptions) {
    const u = new URL(o.url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new TypeError(`alert webhook: ${o.url} is not an http(s) URL`);
  }

  notify(alert: Alert, transition: Transition): void {
    if (this.queue.length >= (this.o.maxQueue ?? 100)) {
      this.drop('queue full');
      return;
    }
    this.queue.push(JSON.stringify({ transition, alert }));
    void this.pump();
  }

  /** Resolves once everything queued now was sent or given up on (for tests and shutdown). */
  async idle(): Promise<void> {
    while (this.sending || this.queue.length > 0) await new Promise((r) => setTimeout(r, 10).unref());
  }

  private async pump(): Promise<void> {
    if (this.sending) return;
    this.sending = true;
    try {
      while (this.queue.length > 0) {
        const body = this.queue.shift()!;
        const retries = this.o.retries ?? 3;
        let delay = this.o.backoffMs ?? 500;
        for (let attempt = 0; ; attempt++) {
          const outcome = await this.post(body);
          if (outcome === 'ok') {
            this.sent++;
            break;
          }
          if (attempt >= retries) {
            this.drop(outcome);
            break;
          }
          await new Promise((r) => setTimeout(r, delay).unref());
          delay *= 2;
        }
      }
    } finally {
      this.sending = false;
    }
  }

  private post(body: string): Promise<'ok' | string> {
    return new Promise((resolve) => {
      context.with(suppressTracing(context.active()), () => {
        const u = new URL(this.o.url);
        const request = (u.protocol === 'https:' ? (require('node:https') as typeof https) : http).request(u, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...this.o.headers },
          timeout: this.o.timeoutMs ?? 2000,
        });
        request.on('response', (res) => {
          res.resume();
          const code = res.statusCode ?? 0;
          resolve(code >= 200 && code < 300 ? 'ok' : `HTTP ${code}`);
        });
        request.on('timeout', () => request.destroy(new Error('timeout')));
        request.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
        request.on('socket', (s) => s.unref());
        request.end(body);
      });
    });
  }

  private drop(reason: string): void {
    this.dropped++;
    this.o.onDrop?.(reason);
  }
}
