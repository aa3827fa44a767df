import { describe, expect, it } from 'vitest';
import { hashSecret, verifySecret } from '../../src/main/auth/passwords';
import { pauseAfter, THROTTLE } from '../../src/main/auth/service';
import { TEST_KDF } from '../support/station';

describe('password hashing', () => {
  it('verifies the right secret and refuses a wrong one', async () => {
    const stored = await hashSecret('correct horse', TEST_KDF);
    expect(stored).toMatch(/^scrypt\$10\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(await verifySecret('correct horse', stored)).toBe(true);
    expect(await verifySecret('correct hors', stored)).toBe(false);
  });

  it('salts every hash', async () => {
    expect(await hashSecret('1234', TEST_KDF)).not.toBe(await hashSecret('1234', TEST_KDF));
  });

  it('treats unicode look-alikes the same after NFKC normalisation', async () => {
    const stored = await hashSecret('ﬁle-cabinet', TEST_KDF); // 'ﬁ' ligature
    expect(await verifySecret('file-cabinet', stored)).toBe(true);
  });

  it('refuses malformed or absurd stored hashes instead of throwing', async () => {
    for (const bad of ['', 'plain', 'scrypt$x$8$1$a$b', 'bcrypt$10$8$1$a$b', 'scrypt$30$8$1$AAAA$AAAA']) {
      expect(await verifySecret('anything', bad)).toBe(false);
    }
  });

  it('the default cost is a slow KDF', async () => {
    const { DEFAULT_KDF } = await import('../../src/main/auth/passwords');
    expect(2 ** DEFAULT_KDF.log2N * DEFAULT_KDF.r * 128).toBeGreaterThanOrEqual(32 * 1024 * 1024);
  });
});

describe('sign-in throttle', () => {
  it('allows the free failures, then doubles the pause up to the cap', () => {
    expect(pauseAfter(THROTTLE.freeFailures - 1)).toBe(0);
    expect(pauseAfter(THROTTLE.freeFailures)).toBe(30_000);
    expect(pauseAfter(THROTTLE.freeFailures + 1)).toBe(60_000);
    expect(pauseAfter(THROTTLE.freeFailures + 20)).toBe(THROTTLE.maxPauseMs);
  });
});
