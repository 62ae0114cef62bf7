import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { passwordMatches } from '../../src/dataplane/passwords';

/** A `user:hash` line as `htpasswd -nb` writes it (the document's first tool). */
const htpasswd = (flags: string[], user: string, password: string): string =>
  execFileSync('htpasswd', ['-nb', ...flags, user, password]).toString().trim();

/** A hash as `openssl passwd` writes it (the document's second tool). */
const opensslPasswd = (flag: string, password: string): string => execFileSync('openssl', ['passwd', flag, password]).toString().trim();

describe('basic-authentication password formats', () => {
  const cases: Array<[string, string]> = [
    ['htpasswd -B (bcrypt $2y$)', htpasswd(['-B', '-C', '4'], 'u', 'pa ss:wörd').split(':').slice(1).join(':')],
    ['htpasswd -m (MD5 $apr1$)', htpasswd(['-m'], 'u', 'pa ss:wörd').split(':').slice(1).join(':')],
    ['htpasswd -2 (SHA-256 $5$)', htpasswd(['-2'], 'u', 'pa ss:wörd').split(':').slice(1).join(':')],
    ['htpasswd -5 -r 7000 (SHA-512 $6$rounds=)', htpasswd(['-5', '-r', '7000'], 'u', 'pa ss:wörd').split(':').slice(1).join(':')],
    ['htpasswd -d (DES crypt)', htpasswd(['-d'], 'u', 'p s:wö').split(':').slice(1).join(':')],
    ['htpasswd -s ({SHA})', htpasswd(['-s'], 'u', 'pa ss:wörd').split(':').slice(1).join(':')],
    ['openssl passwd -1 ($1$)', opensslPasswd('-1', 'pa ss:wörd')],
    ['openssl passwd -6 ($6$)', opensslPasswd('-6', 'pa ss:wörd')],
  ];
  for (const [what, hash] of cases) {
    it(`${what} accepts its password and refuses another`, async () => {
      // DES crypt reads 8 bytes at most: its password is shorter.
      const password = what.includes('DES') ? 'p s:wö' : 'pa ss:wörd';
      assert.equal(await passwordMatches(password, hash), true, hash);
      assert.equal(await passwordMatches(`${password}x`, hash), false);
      assert.equal(await passwordMatches('', hash), false);
    });
  }

  it('{PLAIN} compares the text; unknown formats never match', async () => {
    assert.equal(await passwordMatches('open', '{PLAIN}open'), true);
    assert.equal(await passwordMatches('open', '{PLAIN}opem'), false);
    assert.equal(await passwordMatches('FSGdT', 'FSGdT'), false, 'a bare value is not a hash of any format');
    assert.equal(await passwordMatches('x', '$9$unknown'), false);
  });
});
