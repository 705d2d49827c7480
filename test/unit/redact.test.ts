import { describe, expect, it } from 'vitest';
import { scrubQuoted } from '../../src/db/processor.js';
import { createQueryRedactor } from '../../src/http/redact.js';

const redact = createQueryRedactor(['email']);

describe('createQueryRedactor', () => {
  it.each([
    ['http://h/p?token=abc&page=2', 'http://h/p?token=REDACTED&page=2'],
    ['http://h/p?access_token=abc', 'http://h/p?access_token=REDACTED'],
    ['http://h/p?api_key=1&apiKey=2&X-Amz-Signature=3&sig=4', 'http://h/p?api_key=REDACTED&apiKey=REDACTED&X-Amz-Signature=REDACTED&sig=REDACTED'],
    ['http://h/p?password=x&passwd=y&pwd=z&client_secret=s', 'http://h/p?password=REDACTED&passwd=REDACTED&pwd=REDACTED&client_secret=REDACTED'],
    ['http://h/cb?code=oauth&state=ok', 'http://h/cb?code=REDACTED&state=ok'],
    ['http://h/p?Authorization=Bearer%20x', 'http://h/p?Authorization=REDACTED'],
    ['http://h/p?email=a%40b.c', 'http://h/p?email=REDACTED'],
    ['http://h/p?sessionid=1#frag', 'http://h/p?sessionid=REDACTED#frag'],
    ['http://user:pw@h/p', 'http://REDACTED:REDACTED@h/p'],
    ['http://h/p?a=1&b=2', 'http://h/p?a=1&b=2'],
    ['http://h/p?flag&token=1', 'http://h/p?flag&token=REDACTED'],
    ['http://h/no-query', 'http://h/no-query'],
    ['token=abc&x=1', 'token=REDACTED&x=1'],
    ['?token=abc', '?token=REDACTED'],
    ['/path?secret=1', '/path?secret=REDACTED'],
    ['http://h/p?%74oken=abc', 'http://h/p?%74oken=REDACTED'],
    ['http://h/p?bad=%E0%A4%A', 'http://h/p?bad=%E0%A4%A'],
  ])('%s → %s', (input, want) => {
    expect(redact(input)).toBe(want);
  });
});

describe('scrubQuoted (database error messages)', () => {
  it.each([
    ['relation "users" does not exist', 'relation ? does not exist'],
    ["Duplicate entry 'bob@x.io' for key 'email'", 'Duplicate entry ?'],
    ["You have an error near 'SELEC * FROM t WHERE pw = 's3cr3t'' at line 1", 'You have an error near ? at line 1'],
    ["unbalanced 'quote here", 'unbalanced ?'],
    ['no quotes at all', 'no quotes at all'],
    ['mixed "a" and \'b\' and `c`', 'mixed ? and ? and ?'],
    // Issue 13: what the servers quote back (pg's detail, MySQL, Redis).
    ['Key (email)=(alice@example.com) already exists.', 'Key (email)=(?) already exists.'],
    ["Duplicate entry 'x' for key 'users.email'", 'Duplicate entry ?'],
    ["ERR unknown subcommand 'SETINFO'. Try CLIENT HELP.", 'ERR unknown subcommand ?. Try CLIENT HELP.'],
  ])('%s → %s', (input, want) => {
    expect(scrubQuoted(input)).toBe(want);
  });
});
