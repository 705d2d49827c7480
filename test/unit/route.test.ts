import { describe, expect, it } from 'vitest';
import { OTHER_ROUTE, RouteTemplater, templatePath } from '../../src/http/route.js';

describe('templatePath', () => {
  it.each([
    ['/', '/'],
    ['/users', '/users'],
    ['/users/42', '/users/:id'],
    ['/users/42/orders/7', '/users/:id/orders/:id'],
    ['/users/42?sort=asc', '/users/:id'],
    ['/items/3fa85f64-5717-4562-b3fc-2c963f66afa6', '/items/:id'],
    ['/blobs/5f2b7c9d1e3a4b6c8d0e', '/blobs/:id'],
    ['/objects/507f1f77bcf86cd799439011', '/objects/:id'],
    ['/t/eyJhbGciOiJIUzI1NiJ9abc123', '/t/:id'],
    ['/v2/status', '/v2/status'],
    ['/files/report2024.pdf', '/files/report2024.pdf'],
    ['/internationalization/settings', '/internationalization/settings'],
    ['users/5', '/users/:id'],
    ['/a//b/9/', '/a//b/:id/'],
  ])('%s → %s', (path, want) => {
    expect(templatePath(path)).toBe(want);
  });
});

describe('RouteTemplater', () => {
  it('folds templates past the limit into _other, counts them and reports the limit once', () => {
    const reports: number[] = [];
    const t = new RouteTemplater(2, (limit) => reports.push(limit));
    expect(t.template('/a/1')).toBe('/a/:id');
    expect(t.template('/b')).toBe('/b');
    expect(t.template('/c')).toBe(OTHER_ROUTE);
    expect(t.template('/d/9')).toBe(OTHER_ROUTE);
    // Known templates still resolve after the cap.
    expect(t.template('/a/77')).toBe('/a/:id');
    expect(t.folded).toBe(2);
    expect(t.size).toBe(2);
    expect(reports).toEqual([2]);
  });

  it('keeps 100 000 distinct raw paths within the bound', () => {
    const t = new RouteTemplater(200);
    const seen = new Set<string>();
    for (let i = 0; i < 100_000; i++) seen.add(t.template(`/p${i % 5000}x/${i}`));
    expect(t.size).toBe(200);
    expect(seen.size).toBe(201);
    expect(seen.has(OTHER_ROUTE)).toBe(true);
  });
});
